"""The rendered call-flow configuration: contexts, AMI filter, bridges; opt-out; prompts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from phonebank.agi.optout import caller_e164, make_optout_handler
from phonebank.ami.events import KNOWN_EVENTS
from phonebank.asterisk.layout import InstallDirs, chroot_layout
from phonebank.asterisk.render import AMI_EVENTS, build_context, render_text
from phonebank.config import AsteriskConfig
from phonebank.telephony.prompts import LANGUAGES, PromptSettings, prompt_texts

SECRET = "s3cr3t-Token_abcdefgh"


def texts(flavour: str = "sandbox") -> dict[str, str]:
    directories = None
    if flavour == "sandbox":
        layout = chroot_layout(Path("/cache/root"), Path("/data"))
        directories = layout.directories(InstallDirs(modules="/m", data="/usr/share/asterisk"))
    context = build_context(
        AsteriskConfig(),
        flavour=flavour,  # type: ignore[arg-type]
        ami_secret=SECRET,
        directories=directories,
    )
    return render_text(context)


def contexts(text: str) -> set[str]:
    return set(re.findall(r"^\[([A-Za-z0-9_-]+)\]", text, flags=re.M))


def test_every_call_flow_context_is_there() -> None:
    found = contexts(texts()["extensions.conf"])
    assert {
        "phonebank-test",
        "phonebank-test-agi",
        "phonebank-stations",
        "phonebank-station-key",
        "phonebank-outbound",
        "phonebank-answered",
        "phonebank-wait-station",
        "phonebank-inbound",
        "phonebank-coach",
        "sim-pstn",
        "sim-station",
        "sim-caller",
    } <= found


def test_prompts_live_in_the_instance_or_beside_a_system_asterisk() -> None:
    assert re.search(
        r"^PHONEBANK_SOUNDS = /srv/phonebank/sb-\w+/lib/sounds/phonebank$",
        texts()["extensions.conf"],
        flags=re.M,
    )
    production = texts("production")["extensions.conf"]
    assert "PHONEBANK_SOUNDS = /var/lib/asterisk/sounds/phonebank" in production


def test_the_answered_leg_runs_amd_and_emits_the_engines_events() -> None:
    text = texts()["extensions.conf"]
    answered = text.split("[phonebank-answered]", 1)[1].split("\n[", 1)[0]
    assert "AMD(${PHONEBANK_AMD})" in answered
    for event in ("PhonebankAmd", "PhonebankBridged", "PhonebankAbandoned", "PhonebankMachine"):
        assert re.search(rf"UserEvent\({event},Attempt: \$\{{PHONEBANK_ATTEMPT\}}", answered)
    assert "WaitForSilence(" in answered and "MixMonitor(" in answered
    # Nothing latency-critical starts a process or calls AGI.
    assert "AGI(" not in answered and "System(" not in text


def test_the_engine_sets_the_caller_id_and_no_station_waits_over_two_seconds() -> None:
    text = texts()["extensions.conf"]
    assert "Set(CALLERID(num)=${PHONEBANK_CALLERID})" in text
    (wait,) = re.findall(r"^PHONEBANK_STATION_WAIT_MS = (\d+)$", text, flags=re.M)
    assert int(wait) + 800 <= 2000  # plus AMD's after-greeting silence


def test_the_ami_user_receives_only_the_events_the_dialer_reads() -> None:
    manager = texts()["manager.conf"]
    (line,) = re.findall(r"^eventfilter = (.*)$", manager, flags=re.M)
    names = set(re.fullmatch(r"Event: \((.*)\)\[\[:space:\]\]", line).group(1).split("|"))  # type: ignore[union-attr]
    assert names == set(AMI_EVENTS)
    assert names >= KNOWN_EVENTS
    assert {"ConfbridgeJoin", "ConfbridgeLeave", "UserEvent"} <= names
    assert "Newexten" not in names


def test_stations_are_marked_and_voters_leave_with_them() -> None:
    conf = texts()["confbridge.conf"]
    station = conf.split("[phonebank-station]", 1)[1].split("\n[", 1)[0]
    voter = conf.split("[phonebank-voter]", 1)[1].split("\n[", 1)[0]
    assert "marked = yes" in station and "quiet = yes" in station
    assert "end_marked = yes" in voter and "quiet = no" in voter
    menu = conf.split("[phonebank-station-menu]", 1)[1].split("\n[", 1)[0]
    assert re.findall(
        r"^\*(\d) = dialplan_exec\(phonebank-station-key,\1,1\)$", menu, re.M
    ) == list("0123456789")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0612345678", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("06 12 34 56 78", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),  # Réunion, written the national way
        ("", None),
        ("anonymous", None),
        ("123", None),
    ],
)
def test_caller_numbers_become_e164(raw: str, expected: str | None) -> None:
    assert caller_e164(raw) == expected


class FakeRequest:
    def __init__(self, callerid: str) -> None:
        self.env = {"agi_callerid": callerid}
        self.variables: dict[str, str] = {}

    def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value


def test_the_optout_handler_writes_through_its_writer() -> None:
    written: list[tuple[str, str]] = []

    def writer(e164: str, *, source: str, reason: str) -> bool:
        written.append((e164, source))
        return len(written) == 1

    handler = make_optout_handler(writer)
    first, again, withheld = FakeRequest("0612345678"), FakeRequest("0612345678"), FakeRequest("")
    for request in (first, again, withheld):
        handler(request)  # type: ignore[arg-type]
    assert written == [("+33612345678", "ivr"), ("+33612345678", "ivr")]
    assert first.variables == {"PHONEBANK_OPTOUT": "ADDED"}
    assert again.variables == {"PHONEBANK_OPTOUT": "ALREADY"}
    assert withheld.variables == {"PHONEBANK_OPTOUT": "INVALID"}


def test_every_prompt_the_dialplan_plays_exists_in_both_languages() -> None:
    prompts: dict[str, Any] = prompt_texts(PromptSettings("l'équipe Dupont", "0199000000"))
    played = set(re.findall(r"\$\{PHONEBANK_LANG\}/([a-z-]+)", texts()["extensions.conf"]))
    played |= set(re.findall(r"/fr/(sim-[a-z-]+)", texts()["extensions.conf"]))
    assert played <= set(prompts)
    for name, by_language in prompts.items():
        assert set(by_language) == set(LANGUAGES), name
    assert "01 99 00 00 00" in prompts["safe-harbor"]["fr"]
    assert "Dupont" in prompts["inbound-welcome"]["fr"]
