"""The modem driver over pyserial against the emulator on a pseudo-terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phonebank.devtools.modem_emulator import ModemEmulator
from phonebank.followup.errors import ModemError
from phonebank.followup.modem import GsmModem, is_permanent
from phonebank.followup.pdu import Deliver, StatusReport, build_submits


@pytest.fixture
def emulator() -> Iterator[ModemEmulator]:
    emu = ModemEmulator()
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture
def modem(emulator: ModemEmulator) -> Iterator[GsmModem]:
    with GsmModem.open(emulator.device) as opened:
        yield opened


def test_initialise_with_pin_and_status(emulator: ModemEmulator, modem: GsmModem) -> None:
    emulator.pin_required = True
    status = modem.initialise(pin="1234")
    assert (status.sim, status.registered, status.signal, status.signal_dbm) == (
        "READY",
        True,
        21,
        -71,
    )
    assert status.model == "PB-GSM-1"
    assert emulator.commands[:3] == ["AT", "ATE0", "AT+CMEE=1"]
    assert "AT+CMGF=0" in emulator.commands


def test_missing_or_wrong_pin_is_a_clear_error(emulator: ModemEmulator, modem: GsmModem) -> None:
    emulator.pin_required = True
    with pytest.raises(ModemError, match=r"PIN; set \[sms\] pin"):
        modem.initialise()
    with pytest.raises(ModemError, match="incorrect SIM PIN") as caught:
        modem.initialise(pin="0000")
    assert caught.value.error_code == 16


@pytest.mark.parametrize(
    "text",
    [
        "Rassemblement ce soir 20h30, place de la Mairie. Élodie",
        "Fête de la victoire dimanche 🎉",
        "Meeting {ce soir} [20h30] ~ €5 " * 12,  # extension characters across three parts
        "Réunion: ça commence à 19h — venez nombreux! " * 5,  # UCS-2, concatenated
    ],
)
def test_send_is_checked_and_reassembled(
    emulator: ModemEmulator, modem: GsmModem, text: str
) -> None:
    modem.initialise()
    submits = build_submits("+33612345678", text, reference=9)
    references = [modem.send(submit) for submit in submits]
    assert emulator.errors == []
    assert emulator.messages == [("+33612345678", text)]
    assert references == [seen.reference for seen in emulator.submits]
    # Each part asked for a delivery report; they arrive as +CDS.
    reports = []
    for _ in range(10):
        reports += [urc for urc in modem.poll(0.2) if urc.name == "+CDS"]
        if len(reports) == len(submits):
            break
    assert len(reports) == len(submits)


def test_status_report_pdu_decodes(emulator: ModemEmulator, modem: GsmModem) -> None:
    modem.initialise()
    (submit,) = build_submits("+33612345678", "hello")
    reference = modem.send(submit)
    urcs = modem.poll(2.0)
    from phonebank.followup.pdu import decode_incoming

    report = decode_incoming(next(u for u in urcs if u.name == "+CDS").pdu)
    assert isinstance(report, StatusReport)
    assert report.reference == reference and report.delivered


def test_refused_send_raises_with_code(emulator: ModemEmulator, modem: GsmModem) -> None:
    modem.initialise()
    emulator.fail_sends = 1
    emulator.fail_code = 331
    (submit,) = build_submits("+33612345678", "hello")
    with pytest.raises(ModemError, match="no network service") as caught:
        modem.send(submit)
    assert not is_permanent(caught.value)
    assert emulator.messages == []


def test_silent_modem_times_out(emulator: ModemEmulator, modem: GsmModem) -> None:
    emulator.silent = True
    with pytest.raises(ModemError, match="does not answer AT"):
        modem.initialise()


def test_incoming_stop_is_announced_read_and_deleted(
    emulator: ModemEmulator, modem: GsmModem
) -> None:
    modem.initialise()
    index = emulator.inject_incoming("+33698765432", "Stop")
    urcs = modem.poll(2.0)
    assert [(u.name, u.args) for u in urcs] == [("+CMTI", ("SM", str(index)))]
    stored = modem.read(index)
    assert isinstance(stored.message, Deliver)
    assert (stored.message.sender, stored.message.text) == ("+33698765432", "Stop")
    emulator.inject_incoming("+33698765433", "Fête ce soir ?")
    listed = modem.list_messages()
    assert [s.message.text for s in listed if isinstance(s.message, Deliver)] == [
        "Stop",
        "Fête ce soir ?",
    ]
    for item in listed:
        modem.delete(item.index)
    assert emulator.storage == {}
