"""Messages the admin pages show, marked for translation and translated in the templates.

Handlers and form checks return these English strings; a template shows them with
`_(message)`, so the page's language decides. None holds a `%`: the templates'
gettext formats every message.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the name Babel's extractor looks for
    """Mark a message for translation without translating it here."""
    return message


REQUIRED = N_("This field is required.")
TOO_LONG = N_("This is too long.")
NOT_A_NUMBER = N_("Type a number.")
NOT_A_WHOLE_NUMBER = N_("Type a whole number.")
OUT_OF_RANGE = N_("This number is outside the allowed range.")
UNKNOWN_CHOICE = N_("Choose one of the listed values.")
NOT_A_DATE = N_("Type a date as YYYY-MM-DD.")
NOT_A_TIME_ZONE = N_("Unknown time zone; use a name such as Europe/Paris.")
NAME_TAKEN = N_("Another campaign already has this name.")
BAD_HOURS = N_("Write hours as 10:00-13:00, 14:00-20:00 (start before end, no overlap).")
NO_HOURS = N_("A custom calling window needs hours on at least one day.")
BAD_CALLER_ID = N_("Type a phone number, such as +33162000000 or 01 62 00 00 00.")
BAD_TRANSITION = N_("This campaign cannot do that from its current state.")

SAVED = N_("Saved.")
CREATED = N_("Created.")
STARTED = N_("The campaign is running.")
PAUSED = N_("The campaign is paused.")
STOPPED = N_("The campaign is stopped.")
ARCHIVED = N_("The campaign is archived.")

NOTICES = {
    "saved": SAVED,
    "created": CREATED,
    "started": STARTED,
    "paused": PAUSED,
    "stopped": STOPPED,
    "archived": ARCHIVED,
}

NO_DISPOSITIONS = N_("Add at least one active disposition before starting the campaign.")
NOT_WAV = N_("This file is not a WAV recording.")
UNREADABLE_WAV = N_("This WAV file could not be converted; save it as PCM WAV and try again.")
NO_SOX = N_("sox is not installed on the server (apt-get install sox).")
NO_TTS = N_("espeak-ng is not installed on the server (apt-get install espeak-ng).")
TTS_FAILED = N_("The text could not be spoken; try a shorter or simpler text.")
FILE_TOO_BIG = N_("The file is too big.")
GIVE_FILE_OR_TEXT = N_("Choose a WAV file or type a text to be spoken.")
RECORDING_SAVED = N_("The recording is saved.")
RECORDING_REMOVED = N_("The campaign uses the default recording again.")
BAD_LANGUAGE = N_("Choose French or English.")

RECORDING_ERRORS = {
    "not_wav": NOT_WAV,
    "unreadable_wav": UNREADABLE_WAV,
    "no_sox": NO_SOX,
    "no_tts": NO_TTS,
    "tts_failed": TTS_FAILED,
    "bad_language": BAD_LANGUAGE,
}
NOTICES.update({"recording": RECORDING_SAVED, "recording_removed": RECORDING_REMOVED})

BAD_CODE = N_("Use 1 to 32 lower-case letters, digits or underscores.")
CODE_TAKEN = N_("Another disposition of this campaign has this code.")
BAD_KEY = N_("One digit, letter, * or #.")
KEY_TAKEN = N_("Another disposition of this campaign uses this key.")

BAD_USERNAME = N_("Use up to 64 characters, without spaces.")
USERNAME_TAKEN = N_("Another account has this user name.")
PASSWORD_SHORT = N_("Use at least 8 characters.")
PASSWORDS_DIFFER = N_("The two passwords differ.")
NOT_YOURSELF = N_("You cannot take away your own admin role or disable your own account.")
PASSWORD_CHANGED = N_("The password is changed.")
CODE_REVOKED = N_("The code no longer logs anyone in.")
BAD_NUMBER = N_("The number must be 1 to 16 digits.")
NUMBER_TAKEN = N_("Another station has this number.")
BAD_CHANNEL = N_("Write DAHDI/ and the port (DAHDI/3), or PJSIP/ and the endpoint (PJSIP/desk-3).")
CHANNEL_TAKEN = N_("Another station uses this channel.")
BAD_LABEL = N_("No quotes, semicolons, angle brackets, backslashes or line breaks.")
NOTICES.update({"password": PASSWORD_CHANGED, "revoked": CODE_REVOKED})

NO_PHONE_COLUMN = N_("Choose at least one column that holds phone numbers.")
UNKNOWN_CAMPAIGN = N_("Choose a campaign.")
BAD_REGION = N_("Use a two-letter country code such as FR or US.")
EMPTY_FILE = N_("The file is empty.")
CHOOSE_FILE = N_("Choose a file.")
UPLOAD_GONE = N_("This upload is no longer here; upload the file again.")
LIST_TAKEN = N_("This campaign already has a list with this name.")
BAD_AGE = N_("Type an age between 0 and 130.")
AGE_ORDER = N_("The lowest age is above the highest.")
NO_NUMBERS = N_("Type at least one number.")
LIST_BUILT = N_("The call list is built.")
LIST_REFRESHED = N_("The call list is refreshed.")
NOTICES.update({"built": LIST_BUILT, "refreshed": LIST_REFRESHED})
NO_PHONE_COLUMN_IN_FILE = N_(
    "No column of phone numbers was found: name one Téléphone or Phone, or upload a bare list."
)
