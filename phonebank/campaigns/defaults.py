"""The dispositions a new campaign starts with; admins edit them per campaign.

Each one says what recording it does to the lead (`recycle`): undecided voters are
called again later, supporters get e-mail instead of calls, and anyone who refuses,
is opposed or asks to be removed is never called again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from phonebank.db.enums import DispositionCategory as C
from phonebank.db.enums import FollowUpChannel, RecycleAction
from phonebank.db.models import Disposition

DAY = 24 * 60


@dataclass(frozen=True)
class DispositionDefault:
    code: str
    label: str
    category: C
    key: str
    recycle: RecycleAction
    retry_minutes: int | None = None
    adds_to_dnc: bool = False
    follow_up: FollowUpChannel | None = None


DEFAULT_DISPOSITIONS: tuple[DispositionDefault, ...] = (
    DispositionDefault(
        "strong_support",
        "Strong supporter",
        C.SUPPORTER,
        "1",
        RecycleAction.FINISH,
        follow_up=FollowUpChannel.EMAIL,
    ),
    DispositionDefault(
        "lean_support",
        "Leaning supporter",
        C.SUPPORTER,
        "2",
        RecycleAction.FINISH,
        follow_up=FollowUpChannel.EMAIL,
    ),
    DispositionDefault(
        "undecided",
        "Undecided",
        C.UNDECIDED,
        "3",
        RecycleAction.RETRY,
        7 * DAY,
        follow_up=FollowUpChannel.SMS,
    ),
    DispositionDefault("opposed", "Opposed", C.OPPOSED, "4", RecycleAction.NEVER),
    DispositionDefault("not_home", "Not home", C.NOT_REACHED, "5", RecycleAction.RETRY, 4 * 60),
    DispositionDefault("voicemail", "Voicemail", C.NOT_REACHED, "6", RecycleAction.RETRY, DAY),
    DispositionDefault("wrong_number", "Wrong number", C.BAD_NUMBER, "7", RecycleAction.NEVER),
    DispositionDefault("refused", "Refused to talk", C.REFUSED, "8", RecycleAction.NEVER),
    DispositionDefault("call_back", "Call back later", C.CALLBACK, "9", RecycleAction.CALLBACK),
    DispositionDefault("moved", "Moved or deceased", C.BAD_NUMBER, "0", RecycleAction.NEVER),
    DispositionDefault(
        "do_not_call",
        "Asked not to be called again",
        C.DO_NOT_CALL,
        "x",
        RecycleAction.NEVER,
        adds_to_dnc=True,
    ),
)


def add_default_dispositions(session: Session, campaign_id: int) -> dict[str, Disposition]:
    """Adds the defaults to a campaign already flushed; the new rows by code."""
    rows = {
        d.code: Disposition(
            campaign_id=campaign_id,
            code=d.code,
            label=d.label,
            category=d.category,
            shortcut_key=d.key,
            position=position,
            recycle_action=d.recycle,
            retry_delay_minutes=d.retry_minutes,
            adds_to_dnc=d.adds_to_dnc,
            follow_up=d.follow_up,
        )
        for position, d in enumerate(DEFAULT_DISPOSITIONS)
    }
    session.add_all(rows.values())
    return rows
