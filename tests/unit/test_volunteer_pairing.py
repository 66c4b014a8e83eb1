"""Pairing rules, the signed station cookie, and the preview desk."""

from __future__ import annotations

import pytest

from phonebank.live.requests import DialDesk, DialRequest, OfferWithdrawn, PreviewOffer
from phonebank.volunteer.errors import VolunteerError
from phonebank.volunteer.pairing import PairingBook, decode_pairing, encode_pairing


def test_a_station_held_by_an_active_volunteer_is_refused_to_another() -> None:
    book = PairingBook(idle=600)
    book.pair("3", 1, "Léa", now=0)
    book.pair("3", 1, "Léa", now=10)  # the same volunteer again: fine
    with pytest.raises(VolunteerError) as taken:
        book.pair("3", 2, "Karim", now=20)
    assert taken.value.code == "station_taken"
    assert not book.confirm("3", 2, "Karim", now=30)
    # A screen open keeps the station held however long it is quiet.
    book.screen_opened("3", now=40)
    assert book.holder("3", now=10_000) is not None
    book.screen_closed("3", now=10_000)
    # Idle too long with no screen: the station is free again.
    book.pair("3", 2, "Karim", now=10_601)
    assert book.holder("3", now=10_601).user_id == 2  # type: ignore[union-attr]


def test_pairing_another_station_leaves_the_first_and_supervisors_release() -> None:
    book = PairingBook()
    book.pair("3", 1, "Léa", now=0)
    book.pair("4", 1, "Léa", now=1)
    assert set(book.holders(now=2)) == {"4"}
    assert book.release("4") is not None and book.holders(now=3) == {}
    # After a restart the book is empty: the cookie a screen shows takes its station back.
    assert book.confirm("5", 1, "Léa", now=4)
    book.unpair("5", 2)  # not Karim's to leave
    assert "5" in book.holders(now=5)
    book.unpair("5", 1)
    assert book.holders(now=6) == {}


def test_the_station_cookie_is_signed_and_bound_to_the_user() -> None:
    key = b"k" * 32
    cookie = encode_pairing(key, "7", 42, now=1000)
    assert decode_pairing(key, cookie, 42, now=1100, max_age=3600) == "7"
    assert decode_pairing(key, cookie, 43, now=1100, max_age=3600) is None  # another user
    assert decode_pairing(key, cookie, 42, now=5000, max_age=3600) is None  # too old
    assert decode_pairing(b"x" * 32, cookie, 42, now=1100, max_age=3600) is None
    forged = cookie.replace("7|", "8|", 1)
    assert decode_pairing(key, forged, 42, now=1100, max_age=3600) is None
    for junk in (None, "", "a|b", "7|x|y|z"):
        assert decode_pairing(key, junk, 42, now=1100, max_age=3600) is None


async def test_preview_offers_and_one_dial_per_offer() -> None:
    desk = DialDesk()
    dials: list[DialRequest] = []
    stop = desk.on_dial(dials.append)
    watch = desk.watch("2")
    offer = PreviewOffer("2", 10, 1, 5, 6, "+33639980001", 0.0)
    desk.offer(offer)
    assert await watch.get() == offer and desk.current_offer("2") == offer
    assert desk.request_dial("2", 11, 7, 1.0) is None  # not the offered lead
    assert desk.request_dial("3", 10, 7, 1.0) is None  # not that station's
    sent = desk.request_dial("2", 10, 7, 1.0)
    assert sent is not None and dials == [sent] and sent.e164 == "+33639980001"
    assert desk.request_dial("2", 10, 7, 2.0) is None  # a double click dials once
    desk.offer(offer)
    await watch.get()
    desk.withdraw("2", 10, 3.0)
    assert await watch.get() == OfferWithdrawn("2", 10, 3.0)
    assert desk.current_offer("2") is None
    watch.close()
    stop()
