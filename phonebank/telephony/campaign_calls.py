"""A campaign row's telephony choices as the `CallSettings` of its calls (pure).

The 2-second rule runs from the end of the voter's greeting; AMD() needs its
after-greeting silence (800 ms by default) of that time to decide, so a person may
wait for a station for what is left. Without detection the whole limit is left.

A preview campaign never detects: the volunteer chose the voter, the station is
named in the Originate, and whoever answers (a person or a machine) is put
through at once; the volunteer hears a machine and records it.
"""

from __future__ import annotations

from phonebank.campaigns.amd import PARAMETERS, amd_arguments
from phonebank.db.enums import DialMode, MachineAction
from phonebank.db.models import Campaign
from phonebank.telephony.originate import CallSettings

_AFTER_GREETING = next(p for p in PARAMETERS if p.key == "after_greeting_silence")


def detects(campaign: Campaign) -> bool:
    """Whether the campaign's calls run AMD() (never in preview: the volunteer listens)."""
    return bool(campaign.amd_enabled) and campaign.dial_mode is not DialMode.PREVIEW


def station_wait_ms(campaign: Campaign) -> int:
    limit_ms = round(campaign.connect_limit_seconds * 1000)
    if not detects(campaign):
        return max(0, limit_ms)
    chosen = (campaign.amd_settings or {}).get(_AFTER_GREETING.key)
    ok = isinstance(chosen, int) and _AFTER_GREETING.low <= chosen <= _AFTER_GREETING.high
    silence = chosen if ok and isinstance(chosen, int) else _AFTER_GREETING.default
    return max(0, limit_ms - silence)


def call_settings(campaign: Campaign, *, trunk: str = "") -> CallSettings:
    """What every call of `campaign` carries to the dialplan; `trunk="sim"` for the demo."""
    return CallSettings(
        caller_id=campaign.caller_id or "",
        caller_id_name=campaign.caller_id_name or "",
        trunk=trunk,
        amd=amd_arguments(campaign.amd_settings) if detects(campaign) else "",
        amd_enabled=detects(campaign),
        machine="message" if campaign.machine_action is MachineAction.VOICEMAIL else "hangup",
        station_wait_ms=station_wait_ms(campaign),
        record=campaign.record_calls,
        voicemail=campaign.voicemail_recording or "",
        safe_harbor=campaign.safe_harbor_recording or "",
    )
