"""The AT response parser: bytes in, frames and the unused rest out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from phonebank.followup.at import Final, Line, Prompt, Urc, parse, split_args
from phonebank.followup.optout import is_stop
from phonebank.followup.policy import Backoff, RateLimit

TRANSCRIPT = (
    b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n"
    b'\r\n+CMTI: "SM",3\r\n'
    b"\r\n> "
    b"\r\n+CMGS: 17\r\n\r\nOK\r\n"
    b"\r\n+CDS: 25\r\n0006110B913316325476F8622011211000006220112110000000\r\n"
    b"\r\n+CMS ERROR: 304\r\n"
    b"\r\nERROR\r\n"
    b"\r\n+CREG: 5\r\n"
    b"\r\n+CREG: 0,1\r\n"
)
EXPECTED = [
    Line("+CSQ: 21,99"),
    Final("OK", ok=True),
    Urc("+CMTI", ("SM", "3")),
    Prompt(),
    Line("+CMGS: 17"),
    Final("OK", ok=True),
    Urc("+CDS", ("25",), "0006110B913316325476F8622011211000006220112110000000"),
    Final("+CMS ERROR: 304", ok=False, error_code=304),
    Final("ERROR", ok=False),
    Urc("+CREG", ("5",)),
    Line("+CREG: 0,1"),
]


def test_whole_transcript() -> None:
    frames, rest = parse(TRANSCRIPT)
    assert frames == EXPECTED
    assert rest == b""


def test_incomplete_line_is_kept() -> None:
    frames, rest = parse(b"\r\n+CSQ: 2")
    assert frames == []
    assert rest == b"+CSQ: 2"


def test_two_line_urc_waits_for_its_pdu() -> None:
    frames, rest = parse(b"\r\n+CDS: 25\r\n0006")
    assert frames == []
    assert rest.startswith(b"+CDS: 25")


@given(st.lists(st.integers(1, len(TRANSCRIPT) - 1), max_size=12).map(sorted))
def test_any_chunking_gives_the_same_frames(cuts: list[int]) -> None:
    frames = []
    buffer = b""
    previous = 0
    for cut in [*cuts, len(TRANSCRIPT)]:
        got, buffer = parse(buffer + TRANSCRIPT[previous:cut])
        frames.extend(got)
        previous = cut
    assert frames == EXPECTED
    assert buffer == b""


def test_split_args_keeps_quoted_commas() -> None:
    assert split_args(' "SM",3') == ("SM", "3")
    assert split_args('1,"a,b",,4') == ("1", "a,b", "", "4")
    assert split_args("") == ()


def test_stop_words() -> None:
    for text in [
        "STOP",
        "stop",
        " Stop! ",
        "ARRET",
        "arrêt.",
        "Arrêt",
        "désabonner",
        "UNSUBSCRIBE",
    ]:
        assert is_stop(text), text
    for text in ["", "Don't stop", "stop calling me at 8", "STOPPER", "merci"]:
        assert not is_stop(text), text


def test_backoff_grows_then_gives_up() -> None:
    backoff = Backoff(base=timedelta(seconds=30), cap=timedelta(minutes=5), max_attempts=4)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert [backoff.delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 240, 300]
    assert backoff.next_attempt(now, 3) == now + timedelta(seconds=120)
    assert backoff.next_attempt(now, 4) is None


def test_rate_limit_sliding_minute() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    limit = RateLimit(2)
    assert limit.wait(start) == 0
    limit.record(start)
    limit.record(start + timedelta(seconds=10))
    assert limit.wait(start + timedelta(seconds=20)) == 40
    assert limit.wait(start + timedelta(seconds=60)) == 0
    assert RateLimit(0).wait(start) == 0
