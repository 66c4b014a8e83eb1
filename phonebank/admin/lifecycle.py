"""Starting, pausing and stopping a campaign (pure rules).

The dialer runner dials ACTIVE campaigns only (phonebank.dialer.campaign), so these
transitions are what an admin's buttons do. An archived campaign is kept for its
reports and can no longer be started.
"""

from __future__ import annotations

from phonebank.db.enums import CampaignStatus as S

ACTIONS: dict[str, S] = {
    "start": S.ACTIVE,
    "pause": S.PAUSED,
    "stop": S.STOPPED,
    "archive": S.ARCHIVED,
}
_FROM: dict[str, frozenset[S]] = {
    "start": frozenset({S.DRAFT, S.PAUSED, S.STOPPED}),
    "pause": frozenset({S.ACTIVE}),
    "stop": frozenset({S.ACTIVE, S.PAUSED}),
    "archive": frozenset({S.DRAFT, S.STOPPED}),
}


def allowed_actions(status: S) -> list[str]:
    return [action for action in ACTIONS if status in _FROM[action]]


def transition(status: S, action: str) -> S | None:
    """The new status, or None when the action does not apply to `status`."""
    if action not in ACTIONS or status not in _FROM[action]:
        return None
    return ACTIONS[action]
