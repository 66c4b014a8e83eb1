"""`phonebank sms send|status|inbox|requeue` against the emulator, on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phonebank.cli.main import main
from phonebank.db import upgrade
from phonebank.devtools.modem_emulator import ModemEmulator


@pytest.fixture
def emulator() -> Iterator[ModemEmulator]:
    emu = ModemEmulator(pin_required=True)
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: ModemEmulator) -> Path:
    url = f"sqlite:///{tmp_path / 'pb.db'}"
    upgrade(url)
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", url)
    monkeypatch.setenv("PHONEBANK_SMS_DEVICE", emulator.device)
    monkeypatch.setenv("PHONEBANK_SMS_PIN", "1234")
    monkeypatch.setenv("PHONEBANK_SMS_RATE_PER_MINUTE", "0")
    return tmp_path


def test_send_normalises_the_number_and_sends_once(
    env: Path, emulator: ModemEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sms", "send", "--to", "06 12 34 56 78", "--text", "Fête ce soir!", "--key", "k1"]
    assert main(args) == 0
    assert "to +33612345678: sent (1 part(s)" in capsys.readouterr().out
    assert main(args) == 0
    assert "already used" in capsys.readouterr().out
    assert emulator.messages == [("+33612345678", "Fête ce soir!")]
    assert emulator.errors == []


def test_bad_number_and_missing_device(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sms", "send", "--to", "12", "--text", "x"]) == 1
    assert "phone number" in capsys.readouterr().err
    monkeypatch.delenv("PHONEBANK_SMS_DEVICE")
    assert main(["sms", "status"]) == 1
    assert "no modem device" in capsys.readouterr().err


def test_status_and_inbox(
    env: Path, emulator: ModemEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sms", "status", "--device", emulator.device]) == 0
    out = capsys.readouterr().out
    assert "registered, home network" in out and "21/31 (-71 dBm)" in out
    emulator.inject_incoming("+33698765432", "STOP")
    emulator.inject_incoming("+33698765433", "À quelle heure ?")
    assert main(["sms", "inbox"]) == 0
    out = capsys.readouterr().out
    assert "read 2 new message(s)" in out
    assert "+33698765432 STOP: STOP" in out and "+33698765433: À quelle heure ?" in out
    assert main(["sms", "requeue", "999"]) == 1
