"""GSM 7-bit / UCS-2 encoding, splitting and SMS PDUs, checked against an independent decoder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phonebank.devtools.modem_emulator import (
    decode_submit,
    encode_deliver,
    encode_status_report,
    septets_from,
)
from phonebank.followup.errors import EncodingError, PduError
from phonebank.followup.gsm import (
    BASIC,
    ESCAPE,
    EXTENSION,
    Alphabet,
    choose_alphabet,
    decode_gsm7,
    encode_gsm7,
    pack_septets,
    split_text,
    unpack_septets,
)
from phonebank.followup.pdu import (
    Deliver,
    StatusReport,
    build_submits,
    decode_incoming,
    encode_address,
    validity_octet,
)

GSM_CHARS = "".join(c for i, c in enumerate(BASIC) if i != ESCAPE) + "".join(EXTENSION.values())
gsm_texts = st.text(alphabet=GSM_CHARS, max_size=700)
any_texts = st.text(max_size=400)


def test_alphabet_choice_follows_the_basic_table() -> None:
    assert choose_alphabet("Élodie") is Alphabet.GSM7
    assert choose_alphabet("Fête") is Alphabet.UCS2  # ê is not in the basic table
    assert choose_alphabet("Prix: 5€ {x}") is Alphabet.GSM7  # extension table


def test_known_septet_packing() -> None:
    # The classic example of 23.038: "hellohello" packs into 9 octets.
    assert pack_septets(encode_gsm7("hellohello")).hex().upper() == "E8329BFD4697D9EC37"


def test_extension_characters_take_two_septets() -> None:
    assert encode_gsm7("€") == [0x1B, 0x65]
    assert decode_gsm7([0x1B, 0x65, 0x41]) == "€A"


def test_foreign_character_is_named() -> None:
    with pytest.raises(EncodingError, match=r"'ê' \(U\+00EA\) at position 1"):
        encode_gsm7("Fête")


@given(st.lists(st.integers(0, 127), max_size=200), st.integers(0, 6))
def test_septet_packing_round_trips(septets: list[int], fill: int) -> None:
    packed = pack_septets(septets, fill)
    assert len(packed) == (fill + 7 * len(septets) + 7) // 8
    assert unpack_septets(packed, len(septets), fill) == septets
    assert septets_from(packed, len(septets), fill) == septets  # the emulator's bit reading


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, [160]),
        ("a" * 161, [153, 8]),
        ("é" * 70, [70]),  # é is GSM
        ("ê" * 70, [70]),
        ("ê" * 71, [67, 4]),
        ("a" * 158 + "€", [160]),
        ("a" * 159 + "€", [153, 8]),
        ("a" * 152 + "€" + "a" * 10, [152, 12]),  # the escape sequence is never split
        ("😀" * 35, [70]),
        ("ê" * 2 + "😀" * 35, [66, 6]),  # a surrogate pair is never split
    ],
)
def test_split_sizes(text: str, parts: list[int]) -> None:
    assert [part.units for part in split_text(text)] == parts


@given(any_texts)
def test_split_parts_rejoin_and_respect_limits(text: str) -> None:
    parts = split_text(text)
    assert "".join(part.text for part in parts) == text
    gsm = parts[0].alphabet is Alphabet.GSM7
    single, each = (160, 153) if gsm else (70, 67)
    if len(parts) == 1:
        assert parts[0].units <= single
    else:
        assert all(0 < part.units <= each for part in parts)
        assert sum(p.units for p in parts) > single
    if gsm:
        for part in parts:
            assert part.septets[-1:] != (ESCAPE,)


def test_too_many_parts_is_refused() -> None:
    with pytest.raises(EncodingError, match="SMS parts"):
        split_text("a" * (153 * 256))


def test_address_semi_octets() -> None:
    assert encode_address("+33612345678").hex().upper() == "0B913316325476F8"
    with pytest.raises(EncodingError, match=r"not an E\.164"):
        encode_address("0612345678")


def test_validity_steps() -> None:
    assert validity_octet(24 * 60) == 167
    assert validity_octet(12 * 60) == 143
    assert validity_octet(5) == 0
    assert validity_octet(2 * 24 * 60) == 168
    assert validity_octet(63 * 7 * 24 * 60) == 255


def test_single_submit_pdu_bytes() -> None:
    (submit,) = build_submits("+33612345678", "hellohello", status_report=True)
    # SCA 00, SUBMIT|VPF relative|SRR, MR 0, DA, PID 0, DCS 0, VP 24 h, UDL 10, UD.
    assert submit.hex == "0031000B913316325476F80000A70AE8329BFD4697D9EC37"
    assert submit.tpdu_length == len(submit.pdu) - 1


def test_concatenated_header_and_padding() -> None:
    submits = build_submits("+33612345678", "A" * 200, reference=0x42, status_report=False)
    assert [s.part for s in submits] == [1, 2]
    first = submits[0].pdu
    assert first[1] == 0x51  # SUBMIT | VPF relative | UDHI
    udl_at = 1 + 2 + 8 + 3
    assert first[udl_at] == 160  # 7 header septets + 153
    assert first[udl_at + 1 : udl_at + 7].hex() == "050003420201"
    # One fill bit, then 'A' (0x41) from bit 1: 0x41 << 1 = 0x82.
    assert first[udl_at + 7] == 0x82


@given(any_texts, st.integers(0, 255), st.booleans())
@settings(max_examples=200)
def test_submit_round_trips_through_the_independent_decoder(
    text: str, reference: int, report: bool
) -> None:
    submits = build_submits("+262692123456", text, reference=reference, status_report=report)
    decoded = []
    for submit in submits:
        seen, problems = decode_submit(submit.pdu)
        assert problems == []
        assert seen.destination == "+262692123456"
        assert seen.status_report is report
        if len(submits) > 1:
            assert seen.concat == (reference, len(submits), submit.part)
        decoded.append(seen.text)
    assert "".join(decoded) == text


@given(gsm_texts)
def test_gsm_texts_never_leave_a_lone_escape(text: str) -> None:
    for submit in build_submits("+33612345678", text):
        _, problems = decode_submit(submit.pdu)
        # The emulator's strict decoder refuses a part that ends in a lone escape.
        assert problems == [], problems


@given(st.text(max_size=70).filter(lambda t: len(t.encode("utf-16-be")) <= 140))
def test_deliver_decodes(text: str) -> None:
    if choose_alphabet(text) is Alphabet.GSM7 and len(encode_gsm7(text)) > 160:
        return
    message = decode_incoming(encode_deliver("+33612345678", text).hex())
    assert isinstance(message, Deliver)
    assert message.text == text
    assert message.sender == "+33612345678"
    assert message.smsc == "+33689004000"
    assert message.timestamp == datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def test_known_deliver_pdu() -> None:
    # A widely published example: "How are you?" from +31641600986. Its time-zone octet
    # 0x08 reads, per 23.040 §9.2.3.11 (sign in bit 3 of the first digit), as -00:00.
    message = decode_incoming(
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
    )
    assert isinstance(message, Deliver)
    assert (message.sender, message.text, message.smsc) == (
        "+31641600986",
        "How are you?",
        "+31624000000",
    )
    assert message.timestamp == datetime(2002, 8, 26, 19, 37, 41, tzinfo=UTC)


def test_time_zone_of_the_service_centre() -> None:
    plus_two = decode_incoming(encode_deliver("+33612345678", "x", "26110312000008").hex())
    minus_four = decode_incoming(encode_deliver("+33612345678", "x", "26110312000096").hex())
    assert plus_two.timestamp == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    # Digits "96": the sign bit (8) on the tens digit 1, 16 quarters → -04:00.
    assert minus_four.timestamp == datetime(2026, 11, 3, 16, 0, tzinfo=UTC)


def test_status_report_decodes() -> None:
    report = decode_incoming(encode_status_report(17, "+33612345678", 0).hex())
    assert isinstance(report, StatusReport)
    assert (report.reference, report.recipient, report.delivered, report.final) == (
        17,
        "+33612345678",
        True,
        True,
    )


def test_bad_pdus_say_where() -> None:
    with pytest.raises(PduError, match="not hexadecimal"):
        decode_incoming("ZZ")
    with pytest.raises(PduError, match="TP-OA"):
        decode_incoming("0004")
