"""All tables; importing this package registers every model on `Base.metadata`."""

from __future__ import annotations

import phonebank.db.models.followup  # noqa: F401  (registers the follow-up tables)
from phonebank.db.models.accounts import AccessCode, Station, User
from phonebank.db.models.audit import AuditEntry
from phonebank.db.models.calls import CallAttempt, Callback, Outcome, SurveyAnswer
from phonebank.db.models.campaigns import CallList, CallListEntry, Campaign, Disposition
from phonebank.db.models.dialer import DialerEngine
from phonebank.db.models.people import Consent, Contact, DoNotCallEntry, PhoneNumber
from phonebank.db.models.scripts import Script, SurveyOption, SurveyQuestion

__all__ = [
    "AccessCode",
    "AuditEntry",
    "CallAttempt",
    "CallList",
    "CallListEntry",
    "Callback",
    "Campaign",
    "Consent",
    "Contact",
    "DialerEngine",
    "Disposition",
    "DoNotCallEntry",
    "Outcome",
    "PhoneNumber",
    "Script",
    "Station",
    "SurveyAnswer",
    "SurveyOption",
    "SurveyQuestion",
    "User",
]
