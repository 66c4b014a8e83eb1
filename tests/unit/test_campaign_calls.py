"""A campaign row's telephony choices as CallSettings, and the Originate they make."""

from __future__ import annotations

from phonebank.db.enums import DialMode, MachineAction
from phonebank.db.models import Campaign
from phonebank.telephony.campaign_calls import call_settings, station_wait_ms
from phonebank.telephony.originate import originate_request


def _campaign(**values: object) -> Campaign:
    base: dict[str, object] = {
        "name": "c",
        "connect_limit_seconds": 2.0,
        "amd_enabled": True,
        "amd_settings": {},
        "machine_action": MachineAction.HANGUP,
        "record_calls": False,
        "caller_id": "+33465710000",
        "caller_id_name": "Demo 2027",
    }
    base.update(values)
    return Campaign(**base)


def test_the_two_second_rule_leaves_what_amd_does_not_use() -> None:
    assert station_wait_ms(_campaign()) == 1200  # 2 s minus 800 ms of after-greeting silence
    tuned = _campaign(amd_settings={"after_greeting_silence": 1000, "accuracy": 0.95})
    assert station_wait_ms(tuned) == 1000
    assert station_wait_ms(_campaign(amd_settings={"after_greeting_silence": "x"})) == 1200
    assert station_wait_ms(_campaign(amd_enabled=False)) == 2000
    assert station_wait_ms(_campaign(connect_limit_seconds=0.5)) == 0


def test_settings_carry_caller_id_machine_action_recordings_and_amd() -> None:
    settings = call_settings(
        _campaign(
            machine_action=MachineAction.VOICEMAIL,
            voicemail_recording="/var/lib/asterisk/sounds/phonebank/campaigns/3-voicemail",
            record_calls=True,
            amd_settings={"greeting": 2000, "accuracy": 0.9},
        ),
        trunk="sim",
    )
    variables = originate_request("17", "+33639980001", settings).variables
    assert variables["PHONEBANK_CALLERID"] == "+33465710000"
    assert variables["PHONEBANK_CALLERID_NAME"] == "Demo 2027"
    assert variables["PHONEBANK_MACHINE"] == "message"
    assert variables["PHONEBANK_VOICEMAIL"].endswith("3-voicemail")
    assert variables["PHONEBANK_RECORD"] == "yes"
    assert variables["PHONEBANK_TRUNK"] == "sim"
    assert variables["PHONEBANK_AMD"].split(",")[1] == "2000"  # accuracy is not an AMD() argument
    assert "PHONEBANK_AMD_ENABLED" not in variables


def test_detection_turned_off_reaches_the_dialplan() -> None:
    variables = originate_request("1", "0100000001", call_settings(_campaign(amd_enabled=False)))
    assert variables.variables["PHONEBANK_AMD_ENABLED"] == "no"
    assert "PHONEBANK_AMD" not in variables.variables
    assert variables.variables["PHONEBANK_STATION_WAIT_MS"] == "2000"


def test_a_preview_campaign_never_detects() -> None:
    campaign = _campaign(dial_mode=DialMode.PREVIEW, amd_settings={"greeting": 2000})
    variables = originate_request("1", "0100000001", call_settings(campaign)).variables
    assert variables["PHONEBANK_AMD_ENABLED"] == "no"
    assert "PHONEBANK_AMD" not in variables
    assert station_wait_ms(campaign) == 2000
    assert (
        "PHONEBANK_AMD_ENABLED"
        not in originate_request(
            "1", "0100000001", call_settings(_campaign(dial_mode=DialMode.PROGRESSIVE))
        ).variables
    )
