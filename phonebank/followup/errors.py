"""Errors of the follow-up package; each says what failed and where."""

from __future__ import annotations


class FollowUpError(Exception):
    """Base of every follow-up error; `code` is stable for the web layer."""

    code = "followup_error"


class EncodingError(FollowUpError):
    """A text or number cannot be put into an SMS (too long, invalid number)."""

    code = "sms_encoding"


class PduError(FollowUpError):
    """A PDU received from the modem is malformed; says at which octet."""

    code = "sms_pdu"


class ModemError(FollowUpError):
    """The modem answered a command with an error, or did not answer at all."""

    code = "modem_error"

    def __init__(self, message: str, *, command: str = "", error_code: int | None = None) -> None:
        super().__init__(message)
        self.command = command
        self.error_code = error_code


class ModemTimeout(ModemError):
    """No final result from the modem in time."""

    code = "modem_timeout"


class NumberError(FollowUpError):
    """A phone number as a person wrote it cannot be turned into E.164."""

    code = "bad_number"


class MailError(FollowUpError):
    """The SMTP server refused a message or could not be reached."""

    code = "mail_error"

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class TemplateError(FollowUpError):
    """An e-mail template is missing or does not render."""

    code = "mail_template"


class TokenError(FollowUpError):
    """An unsubscribe token is forged, malformed or for another purpose."""

    code = "bad_token"


class SendUncertain(ModemError):
    """The PDU reached the modem but no answer came: it may or may not have gone out."""

    code = "sms_uncertain"
