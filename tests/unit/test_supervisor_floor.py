"""The wallboard's state from hand-made floor snapshots (pure, the clock passed in)."""

from __future__ import annotations

import json

from phonebank.dialer.floor import LineState, LineView, StationState, StationView
from phonebank.supervisor.floor import (
    CHART_MINUTES,
    Abandon,
    CallInfo,
    CallMinute,
    CampaignLive,
    CampaignMeta,
    CoachView,
    Count,
    FloorInputs,
    ListFigures,
    QuestionTally,
    StationInfo,
    Tallies,
    ZoneLeads,
    chart,
    dial_level,
    wallboard,
)

NOW = 1_800_000_030.0  # half a minute past a minute


def _floor() -> FloorInputs:
    lyon = CampaignLive(
        campaign_id=1,
        name="Lyon",
        mode="predictive",
        stations={
            "1": StationView(StationState.TALKING, NOW - 95),
            "2": StationView(StationState.READY, NOW - 4),
            "3": StationView(StationState.WRAP_UP, NOW - 12),
            "4": StationView(StationState.PAUSED, NOW - 300),
        },
        lines=(
            LineView(LineState.RINGING, NOW - 3),
            LineView(LineState.RINGING, NOW - 1),
            LineView(LineState.WAITING, NOW - 0.5),
        ),
        bridged=1,
        throttled=True,
    )
    return FloorInputs(
        campaigns=(
            CampaignMeta(1, "Lyon", "predictive", 0.03),
            CampaignMeta(2, "Paris", "progressive", 0.02),
        ),
        live=(lyon,),
        abandon={1: Abandon(today=0.05, rolling=0.02, target=0.03, live_answers_today=40)},
        inventory=(
            StationInfo("1", "Table 1"),
            StationInfo("2"),
            StationInfo("3"),
            StationInfo("4"),
            StationInfo("5"),
            StationInfo("6"),
            StationInfo("10", "Back room"),
            StationInfo("99", "Broken", enabled=False),
        ),
        handsets=frozenset({"1", "2", "3", "4", "6"}),
        volunteers={"1": "Claire", "2": "Paul"},
        calls={"1": CallInfo(campaign_id=1, attempt_id=77, at=NOW - 95)},
        coaching={"1": (CoachView("Sam", "listen", "on"),)},
        tallies={
            1: Tallies(
                dispositions=(Count("strong_support", "Strong support", 7, "supporter"),),
                surveys=(QuestionTally("vote", "Will you vote?", (Count("yes", "Yes", 5),)),),
                contacts_today=30,
                contacts_last_hour=12,
            )
        },
        lists={
            1: ListFigures(
                total=200,
                attempted=50,
                pending=140,
                completed=40,
                exhausted=5,
                excluded=5,
                claimed=10,
                zones=(
                    ZoneLeads("Indian/Reunion", 20, 20, False),
                    ZoneLeads("Europe/Paris", 120, 100, True),
                ),
            )
        },
        dialer=True,
    )


def test_every_station_of_the_inventory_and_its_state() -> None:
    state = wallboard(_floor(), NOW)
    rows = {row["number"]: row for row in state["stations"]}
    assert [r["number"] for r in state["stations"]] == ["1", "2", "3", "4", "5", "6", "10"]
    assert rows["1"]["state"] == "talking" and rows["1"]["seconds"] == 95
    assert rows["1"]["volunteer"] == "Claire" and rows["1"]["attempt"] == 77
    assert rows["1"]["campaign"] == "Lyon" and rows["1"]["label"] == "Table 1"
    assert rows["1"]["coaching"] == [{"by": "Sam", "mode": "listen", "state": "on"}]
    assert (rows["3"]["state"], rows["3"]["seconds"]) == ("wrap_up", 12)
    assert (rows["4"]["state"], rows["4"]["seconds"]) == ("paused", 300)
    # No engine knows 5 and 10: handsets down; 6 is off the hook with no campaign.
    assert (rows["5"]["state"], rows["5"]["seconds"]) == ("handset_down", None)
    assert rows["6"]["state"] == "idle"
    assert rows["10"]["state"] == "handset_down"
    assert "99" not in rows  # out of service
    assert state["totals"]["stations"] == {
        "talking": 1,
        "wrap_up": 1,
        "ready": 1,
        "paused": 1,
        "idle": 1,
        "handset_down": 2,
    }


def test_lines_dial_level_and_abandon_against_the_target() -> None:
    state = wallboard(_floor(), NOW)
    totals = state["totals"]
    assert (totals["ringing"], totals["waiting"], totals["bridged"]) == (2, 1, 1)
    # 4 lines up for 3 volunteers taking calls (the paused one does not count).
    assert totals["dial_level"] == 1.33
    lyon, paris = state["campaigns"]
    assert lyon["abandon"] == {
        "today": 0.05,
        "rolling": 0.02,
        "target": 0.03,
        "over": True,
        "answers": 40,
    }
    assert lyon["throttled"] is True and lyon["running"] is True
    assert lyon["stations"] == {"ready": 1, "talking": 1, "wrap_up": 1, "paused": 1}
    # Paris is ACTIVE but has no runner yet: shown, with nothing dialled.
    assert paris["running"] is False and paris["dial_level"] is None
    assert paris["abandon"]["today"] is None and paris["abandon"]["target"] == 0.02
    assert state["chart"]["target"] == 0.02  # the strictest target on the floor


def test_tallies_and_lists_per_campaign() -> None:
    lyon = wallboard(_floor(), NOW)["campaigns"][0]
    assert lyon["contacts_today"] == 30 and lyon["contacts_last_hour"] == 12
    assert lyon["dispositions"][0]["count"] == 7
    assert lyon["surveys"][0]["answers"][0] == {
        "key": "yes",
        "label": "Yes",
        "count": 5,
        "category": "",
    }
    lists = lyon["lists"]
    assert lists["penetration"] == 0.25
    # Zones with the most leads left first; Réunion's window is closed now.
    assert [z["zone"] for z in lists["zones"]] == ["Europe/Paris", "Indian/Reunion"]
    assert lists["zones"][1]["open"] is False


def test_the_state_is_plain_json() -> None:
    state = wallboard(_floor(), NOW)
    assert json.loads(json.dumps(state)) == state


def test_a_station_two_engines_know_shows_its_busiest_state() -> None:
    moving = CampaignLive(2, "Paris", "progressive", {"1": StationView(StationState.READY, NOW)})
    inputs = _floor()
    floor = FloorInputs(live=(moving, *inputs.live), inventory=inputs.inventory)
    rows = {r["number"]: r for r in wallboard(floor, NOW)["stations"]}
    assert rows["1"]["state"] == "talking" and rows["1"]["campaign"] == "Lyon"


def test_an_empty_floor() -> None:
    state = wallboard(FloorInputs(), NOW)
    assert state["stations"] == [] and state["campaigns"] == []
    assert state["totals"]["dial_level"] is None and state["dialer"] is False
    assert state["chart"]["target"] is None
    assert len(state["chart"]["minutes"]) == CHART_MINUTES


def test_dial_level_without_volunteers_is_none() -> None:
    assert dial_level(3, 0) is None
    assert dial_level(5, 2) == 2.5


def test_chart_calls_per_minute_and_the_abandon_rate_of_the_last_15_minutes() -> None:
    last = 1_800_000_000.0  # the minute NOW falls in
    minutes = (
        CallMinute(last, "human", 9),
        CallMinute(last, "abandoned", 1),
        CallMinute(last, "machine", 4),
        CallMinute(last - 60, "no_answer", 6),
        # 20 minutes ago: on the chart, and in the abandon window of the 15 minutes after.
        CallMinute(last - 20 * 60, "abandoned", 2),
        CallMinute(last - 20 * 60, "human", 2),
        # Too old for anything.
        CallMinute(last - 3 * 3600, "human", 50),
    )
    drawn = chart(minutes, NOW, 0.03)
    assert drawn["minutes"][-1] == last and drawn["minutes"][0] == last - 59 * 60
    assert drawn["calls"]["human"][-1] == 9 and drawn["calls"]["machine"][-1] == 4
    assert drawn["calls"]["no_answer"][-2] == 6
    assert sum(drawn["calls"]["human"]) == 11
    assert drawn["abandon"][-1] == 0.1  # 1 dropped of 10 answers in the last 15 minutes
    # 59 minutes ago, the window (73..59 minutes ago) holds nothing: no rate, not 0.
    assert drawn["abandon"][0] is None
    # The minutes just after the 20-minute-old calls still count them (15-minute window).
    index = drawn["minutes"].index(last - 20 * 60)
    assert drawn["abandon"][index] == 0.5 and drawn["abandon"][index + 14] == 0.5
    assert drawn["abandon"][index + 15] is None
