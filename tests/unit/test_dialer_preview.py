"""Preview mode's offer bookkeeping (`PreviewBook`) and the desk's side of it.

Plain cases, then a stateful run: stations come and go, leads are claimed and
offered, volunteers click (twice, late, on old offers), calls end, offers go
stale. Whatever the order: one slot per station, a lead offered to one station
at a time, each offer dialled at most once, and only by a click on it while it
was the station's offer.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from phonebank.dialer.preview import OFFER_SECONDS, PreviewBook, Stage, Taken, Withdrawal
from phonebank.dialer.repo import ClaimedLead
from phonebank.live.requests import DialDesk, OfferWithdrawn, PreviewOffer

STATIONS = ("1", "2", "3")


def lead(n: int, tz: str = "Europe/Paris") -> ClaimedLead:
    return ClaimedLead(n, 100 + n, 200 + n, f"+3363998{n:04d}", tz)


def always(_lead: ClaimedLead) -> bool:
    return True


def test_a_lead_for_each_ready_station_and_the_rest_back() -> None:
    book = PreviewBook()
    assert book.wanting(["2", "1"]) == ["1", "2"]
    book.claiming(["1", "2"], 0.0)
    assert book.wanting(["1", "2", "3"]) == ["3"]  # one slot each
    # Station 2 paused while its lead was claimed: its lead goes back.
    offers, spare = book.claimed([lead(1), lead(2)], ["1"], 1.0)
    assert offers == [Taken("1", lead(1))] and spare == [lead(2)]
    assert book.offered() == {"1": lead(1)}
    assert book.wanting(["1", "2"]) == ["2"]
    # Fewer leads than stations: the one left over asks again.
    book.claiming(["2", "3"], 2.0)
    offers, spare = book.claimed([lead(3)], ["2", "3"], 3.0)
    assert offers == [Taken("2", lead(3))] and spare == []
    assert book.slot("3") is None


def test_stale_offers_pause_window_and_time_limit() -> None:
    book = PreviewBook(offer_seconds=60.0)
    book.claiming(STATIONS, 0.0)
    book.claimed([lead(1), lead(2, "Pacific/Noumea"), lead(3)], STATIONS, 0.0)
    shut = {"Pacific/Noumea"}
    taken = book.stale(30.0, ["2", "3"], lambda ld: ld.time_zone not in shut)
    assert taken == [
        Taken("1", lead(1), Withdrawal.NOT_READY),
        Taken("2", lead(2, "Pacific/Noumea"), Withdrawal.WINDOW),
    ]
    assert book.stale(59.0, ["3"], always) == []
    assert book.stale(60.0, ["3"], always) == [Taken("3", lead(3), Withdrawal.EXPIRED)]
    assert book.offered() == {}
    assert OFFER_SECONDS == 300.0


def test_one_click_one_call_and_the_station_free_after() -> None:
    book = PreviewBook()
    book.claiming(["1"], 0.0)
    book.claimed([lead(1)], ["1"], 0.0)
    assert book.dial("1", 2) is None  # not the lead on offer
    assert book.dial("2", 1) is None  # not that station's
    assert book.dial("1", 1) == lead(1)
    assert book.dial("1", 1) is None  # the double click
    # Once dialling, the offer is not stale whatever happens to the station.
    assert book.stale(1000.0, [], always) == []
    book.started("1", "77")
    assert book.dialling() == {"77"}
    assert book.wanting(["1"]) == []
    assert book.ended("78") is None
    assert book.ended("77") == Taken("1", lead(1))
    assert book.wanting(["1"]) == ["1"]


def test_a_click_whose_row_was_refused_frees_the_station() -> None:
    book = PreviewBook()
    book.claiming(["1", "2"], 0.0)
    book.claimed([lead(1), lead(2)], ["1", "2"], 0.0)
    assert book.dial("1", 1) == lead(1)
    book.not_started("1")
    assert book.slot("1") is None
    book.claiming(["3"], 1.0)
    assert book.withdraw_all() == [Taken("2", lead(2), Withdrawal.STOPPED)]
    assert book.slot("3") is None and book.offered() == {}


def test_the_desk_counts_watchers_and_clears_an_unanswered_dial() -> None:
    desk = DialDesk()
    assert desk.watchers("1") == 0
    first, second = desk.watch("1"), desk.watch("1")
    assert desk.watchers("1") == 2
    desk.offer(PreviewOffer("1", 5, 1, 105, 205, "+33639980005", 0.0))
    assert desk.request_dial("1", 5, 9, 1.0) is not None
    desk.unanswered("1", 5, 2.0)
    assert first._queue.qsize() == second._queue.qsize() == 2
    assert first._queue.get_nowait() == PreviewOffer("1", 5, 1, 105, 205, "+33639980005", 0.0)
    assert first._queue.get_nowait() == OfferWithdrawn("1", 5, 2.0)
    # A newer offer on screen: the old dial's end must not clear it.
    desk.offer(PreviewOffer("1", 6, 1, 106, 206, "+33639980006", 3.0))
    desk.unanswered("1", 5, 4.0)
    assert first._queue.qsize() == 1
    first.close()
    second.close()
    assert desk.watchers("1") == 0


class Offers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = PreviewBook(offer_seconds=10.0)
        self.now = 0.0
        self.ready: set[str] = set(STATIONS)
        self.next_lead = 0
        self.claimed: set[int] = set()  # leads held by the book's side (claimed, not released)
        self.offers: dict[str, int] = {}  # the model: station -> entry on offer
        self.dialled: list[tuple[str, int]] = []
        self.calls = 0

    def release(self, entry: int) -> None:
        assert entry in self.claimed
        self.claimed.discard(entry)

    @rule(dt=st.floats(0.0, 6.0))
    def time(self, dt: float) -> None:
        self.now += dt

    @rule(station=st.sampled_from(STATIONS), ready=st.booleans())
    def station(self, station: str, ready: bool) -> None:
        (self.ready.add if ready else self.ready.discard)(station)

    @rule(count=st.integers(0, 3), data=st.data())
    def claim(self, count: int, data: st.DataObject) -> None:
        wanting = self.book.wanting(self.ready)
        self.book.claiming(wanting, self.now)
        leads = []
        for _ in range(count):
            self.next_lead += 1
            self.claimed.add(self.next_lead)
            leads.append(lead(self.next_lead))
        # The station may have paused while the claim was written.
        still = data.draw(st.sets(st.sampled_from(STATIONS))) & self.ready
        offers, spare = self.book.claimed(leads, still, self.now)
        for taken in offers:
            assert taken.station in still and taken.station not in self.offers
            self.offers[taken.station] = taken.lead.entry_id
        for spared in spare:
            self.release(spared.entry_id)

    @rule(closed=st.booleans())
    def stale(self, closed: bool) -> None:
        for taken in self.book.stale(self.now, self.ready, lambda _lead: not closed):
            assert self.offers.pop(taken.station) == taken.lead.entry_id
            self.release(taken.lead.entry_id)

    @rule(station=st.sampled_from(STATIONS), old=st.booleans())
    def click(self, station: str, old: bool) -> None:
        entry = self.offers.get(station)
        asked = (entry or 0) - 1 if old else entry
        got = self.book.dial(station, asked or 0)
        if entry is None or old:
            assert got is None
            return
        assert got is not None and got.entry_id == entry
        del self.offers[station]
        self.dialled.append((station, entry))
        assert self.book.dial(station, entry) is None  # the double click

    @rule(data=st.data(), refused=st.booleans())
    def written(self, data: st.DataObject, refused: bool) -> None:
        starting = [
            s for s in STATIONS if (slot := self.book.slot(s)) and slot.stage is Stage.STARTING
        ]
        if not starting:
            return
        station = data.draw(st.sampled_from(starting))
        if refused:
            self.book.not_started(station)
            return
        self.calls += 1
        self.book.started(station, f"c{self.calls}")

    @rule(data=st.data())
    def call_ends(self, data: st.DataObject) -> None:
        calls = sorted(self.book.dialling())
        if calls:
            taken = self.book.ended(data.draw(st.sampled_from(calls)))
            assert taken is not None

    @invariant()
    def one_offer_per_station_each_lead_once(self) -> None:
        assert self.book.offered().keys() == self.offers.keys()
        entries = [ld.entry_id for ld in self.book.offered().values()]
        assert sorted(entries) == sorted(self.offers.values())
        assert len(set(entries)) == len(entries)
        # A station dialled a lead only once, and every lead on offer is still claimed.
        assert len(set(self.dialled)) == len(self.dialled)
        assert set(entries) <= self.claimed


TestOffers = Offers.TestCase
TestOffers.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
