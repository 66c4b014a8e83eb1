"""The fixed vocabularies stored in the database (as text, checked by CHECK constraints)."""

from __future__ import annotations

from enum import StrEnum


class DialMode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    ARCHIVED = "archived"


class MachineAction(StrEnum):
    """What to do when answering-machine detection says MACHINE."""

    HANGUP = "hangup"
    VOICEMAIL = "voicemail"


class SupportLevel(StrEnum):
    UNKNOWN = "unknown"
    STRONG_SUPPORTER = "strong_supporter"
    LEAN_SUPPORTER = "lean_supporter"
    UNDECIDED = "undecided"
    LEAN_OPPOSED = "lean_opposed"
    OPPOSED = "opposed"


class PhoneType(StrEnum):
    MOBILE = "mobile"
    FIXED = "fixed"
    VOIP = "voip"
    UNKNOWN = "unknown"


class LeadStatus(StrEnum):
    """Where a call-list entry stands for the dialer."""

    PENDING = "pending"  # may be dialled once next_attempt_at (if any) has passed
    CLAIMED = "claimed"  # an engine took it (claimed_by, claimed_at); not free for others
    COMPLETED = "completed"  # reached with a final outcome: no more calls
    EXHAUSTED = "exhausted"  # attempt limit reached
    EXCLUDED = "excluded"  # dropped by a list refresh, do-not-call or a "never" outcome


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Language(StrEnum):
    FR = "fr"
    EN = "en"


class AttemptState(StrEnum):
    """Life of one dial; the row is written (CREATED) before the Originate is sent."""

    CREATED = "created"
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"
    BRIDGED = "bridged"
    ENDED = "ended"


class AttemptResult(StrEnum):
    """How the network leg ended, whatever the volunteer later recorded."""

    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    INVALID = "invalid"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DispositionCategory(StrEnum):
    SUPPORTER = "supporter"
    UNDECIDED = "undecided"
    OPPOSED = "opposed"
    NOT_REACHED = "not_reached"
    CALLBACK = "callback"
    REFUSED = "refused"
    BAD_NUMBER = "bad_number"
    DO_NOT_CALL = "do_not_call"
    OTHER = "other"


class RecycleAction(StrEnum):
    """What a disposition does to the lead."""

    RETRY = "retry"  # call again after retry_delay_minutes
    CALLBACK = "callback"  # a scheduled callback decides the next call
    FINISH = "finish"  # no more calls in this campaign
    NEVER = "never"  # never call this contact again (and its phones stop being callable)


class FollowUpChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutcomeChannel(StrEnum):
    PHONE = "phone"
    DOOR = "door"


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    TEXT = "text"


class CallbackState(StrEnum):
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"
    MISSED = "missed"


class ConsentChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"
