"""The wallboard page, its JSON and its WebSocket on a real database; coaching requests
through the web layer (the AMI side here is a recording stand-in: the real Asterisk
is in test_supervisor_coaching.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from sqlalchemy import Engine, select, update

from phonebank.ami.events import OriginateResponse
from phonebank.ami.subscription import EventSubscription
from phonebank.db.engine import session_factory
from phonebank.db.models import AuditEntry, Station
from phonebank.dialer.floor import LineState, LineView, StationState, StationView
from phonebank.live.bus import CallPop, LiveBus
from phonebank.supervisor import routes as supervisor_routes
from phonebank.supervisor.coach_service import CoachLink
from phonebank.supervisor.floor import Abandon, CampaignLive
from phonebank.supervisor.hub import Wallboard
from phonebank.web.app import Feature
from tests.integration.admin_app import NOW, AdminWorld, admin_world, login_features


@dataclass
class StaticFloor:
    """A floor set by the test, as the dialer's runners would show it."""

    campaigns: tuple[CampaignLive, ...] = ()
    abandons: dict[int, Abandon] = field(default_factory=dict)
    present: frozenset[str] | None = None
    attached: bool = True

    def live(self) -> tuple[CampaignLive, ...]:
        return self.campaigns

    def abandon(self) -> Mapping[int, Abandon]:
        return self.abandons

    def handsets(self) -> frozenset[str] | None:
        return self.present


@dataclass
class RecordingAmi:
    """Records Originates and answers them at once, as an answered handset would."""

    sent: list[dict[str, object]] = field(default_factory=list)

    def events(
        self, *, names: Collection[str] | None = None, maxsize: int = 10_000
    ) -> EventSubscription:
        return EventSubscription(maxsize, names, lambda _s: None)

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        timeout_ms: int = 30_000,
        caller_id: str | None = None,
        channel_id: str | None = None,
    ) -> OriginateResponse:
        self.sent.append(
            {"channel": channel, "context": context, "exten": exten, "channel_id": channel_id}
        )
        return OriginateResponse(success=True, reason=4, channel_name=channel)


@dataclass
class SupervisorWorld:
    web: AdminWorld
    floor: StaticFloor
    bus: LiveBus

    @property
    def hub(self) -> Wallboard:
        app = self.web.client.app
        assert app is not None
        return app[supervisor_routes.WALLBOARD]


@contextlib.asynccontextmanager
async def supervisor_world(
    url: str, tmp_path: Path, *, ami: CoachLink | None = None, period: float = 0.05
) -> AsyncIterator[SupervisorWorld]:
    """The admin and supervisor features with the login pages; stations 1-4 in service."""
    floor, bus = StaticFloor(), LiveBus()

    def features(engine: Engine) -> list[Feature]:
        with session_factory(engine).begin() as session:
            session.add_all(
                Station(number=str(n), channel=f"DAHDI/{n}", label=f"Desk {n}") for n in range(1, 5)
            )
        wallboard = supervisor_routes.setup(
            engine=engine, clock=lambda: NOW, floor=floor, bus=bus, ami=ami, period=period
        )
        return [*login_features(engine), wallboard]

    async with admin_world(url, tmp_path, extra=features) as web:
        web.act_as("supervisor")
        yield SupervisorWorld(web, floor, bus)


def talking_floor() -> StaticFloor:
    lyon = CampaignLive(
        campaign_id=1,
        name="Lyon",
        mode="predictive",
        stations={
            "1": StationView(StationState.TALKING, NOW - 65),
            "2": StationView(StationState.READY, NOW - 5),
        },
        lines=(LineView(LineState.RINGING, NOW - 2),),
        bridged=1,
    )
    return StaticFloor(campaigns=(lyon,), present=frozenset({"1", "2", "3"}))


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[SupervisorWorld]:
    async with supervisor_world(migrated_url, tmp_path, ami=RecordingAmi()) as built:
        yield built


async def test_the_page_carries_the_floor_and_the_coaching_buttons_script(
    world: SupervisorWorld,
) -> None:
    live = talking_floor()
    world.floor.campaigns, world.floor.present = live.campaigns, live.present
    page = await world.web.client.get("/supervisor")
    assert page.status == 200
    html = await page.text()
    assert "/static/supervisor.js" in html and "/static/vendor/uplot/uPlot.iife.min.js" in html
    start = html.index('<script type="application/json" id="state">') + len(
        '<script type="application/json" id="state">'
    )
    state = json.loads(html[start : html.index("</script>", start)])
    states = {s["number"]: s["state"] for s in state["stations"]}
    assert states == {"1": "talking", "2": "ready", "3": "idle", "4": "handset_down"}
    assert state["totals"]["dial_level"] == 1.0  # ringing + bridged for two volunteers


async def test_a_label_cannot_close_the_pages_script_element(world: SupervisorWorld) -> None:
    label = "</script><script>alert('x')</script> & <b>"
    with session_factory(world.web.engine).begin() as session:
        session.execute(update(Station).where(Station.number == "2").values(label=label))
    html = await (await world.web.client.get("/supervisor")).text()
    assert "</script><script>alert" not in html
    marker = '<script type="application/json" id="state">'
    start = html.index(marker) + len(marker)
    state = json.loads(html[start : html.index("</script>", start)])
    assert state["stations"][1]["label"] == label


async def test_the_state_as_json(world: SupervisorWorld) -> None:
    response = await world.web.client.get("/supervisor/state")
    assert response.status == 200 and response.content_type == "application/json"
    state = await response.json()
    assert [s["label"] for s in state["stations"]] == ["Desk 1", "Desk 2", "Desk 3", "Desk 4"]


async def _next_state(ws: ClientWebSocketResponse) -> dict[str, Any]:
    message = await ws.receive(timeout=10)
    assert message.type is WSMsgType.TEXT, message
    parsed: dict[str, Any] = json.loads(message.data)
    return parsed


async def test_every_supervisor_gets_the_same_state_computed_once(
    world: SupervisorWorld,
) -> None:
    client = world.web.client
    sockets = [await client.ws_connect("/supervisor/ws") for _ in range(3)]
    try:
        firsts = [await _next_state(ws) for ws in sockets]
        # Whatever a socket got first, the next ticks are shared: same seq, same text.
        target = max(int(s["seq"]) for s in firsts) + 1
        seen: list[dict[str, Any]] = []
        for ws in sockets:
            state = await _next_state(ws)
            while int(state["seq"]) < target:
                state = await _next_state(ws)
            seen.append(state)
        assert len({json.dumps(s, sort_keys=True) for s in seen if s["seq"] == target}) == 1
        # A change on the floor shows up at the next tick, with the call's attempt.
        world.floor.campaigns = talking_floor().campaigns
        world.bus.publish(CallPop("1", 4242, 1, 7, None, "+33612345678", NOW - 65))
        state = await _next_state(sockets[0])
        while not any(s["state"] == "talking" for s in state["stations"]):
            state = await _next_state(sockets[0])
        row = state["stations"][0]
        assert (row["number"], row["attempt"], row["seconds"]) == ("1", 4242, 65)
    finally:
        for ws in sockets:
            await ws.close()
    # Nobody watches any more: the ticks stop computing.
    await asyncio.sleep(0.2)
    seq = world.hub.seq
    await asyncio.sleep(0.2)
    assert world.hub.seq == seq and world.hub.slots == set()


async def test_a_websocket_from_another_site_is_refused(world: SupervisorWorld) -> None:
    response = await world.web.client.get(
        "/supervisor/ws",
        headers={
            "Origin": "http://evil.example",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 403


async def _coach(world: SupervisorWorld, **form: str) -> tuple[int, dict[str, str]]:
    response = await world.web.client.post(
        "/supervisor/coach",
        data=form,
        headers={"X-CSRF-Token": world.web.token, "Accept": "application/json"},
    )
    return response.status, await response.json()


async def test_coaching_rings_the_supervisors_handset_and_is_audited(
    migrated_url: str, tmp_path: Path
) -> None:
    ami = RecordingAmi()
    async with supervisor_world(migrated_url, tmp_path, ami=ami) as world:
        status, body = await _coach(world, station="1", mode="whisper", handset="3")
        assert status == 202 and body["mode"] == "whisper"
        await asyncio.sleep(0)  # the Originate runs in its own task
        assert ami.sent == [
            {
                "channel": "DAHDI/3",  # station 3's handset, from the inventory
                "context": "phonebank-coach",
                "exten": "721",
                "channel_id": body["call"],
            }
        ]
        with session_factory(world.web.engine)() as session:
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("coach.%"))
            ).one()
        assert (entry.action, entry.object_type, entry.object_id) == (
            "coach.whisper",
            "station",
            "1",
        )
        assert entry.user_id == world.web.users["supervisor"]
        assert entry.details["handset"] == "3" and entry.details["call"] == body["call"]
        # The handset is remembered: the next request may leave it out.
        status, body = await _coach(world, station="2", mode="barge")
        assert status == 202
        await asyncio.sleep(0)
        assert ami.sent[-1]["channel"] == "DAHDI/3" and ami.sent[-1]["exten"] == "732"
        state = json.loads(await world.hub.current())
        coaching = {s["number"]: s["coaching"] for s in state["stations"]}
        assert coaching["2"] == [{"by": "supervisor-name", "mode": "barge", "state": "on"}]


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"station": "9", "mode": "listen", "handset": "3"}, 404, "unknown_station"),
        ({"station": "1", "mode": "listen", "handset": "8"}, 404, "unknown_handset"),
        ({"station": "1", "mode": "listen", "handset": "1"}, 400, "same_station"),
        ({"station": "1", "mode": "spy", "handset": "3"}, 400, "bad_mode"),
        ({"station": "1", "mode": "listen", "handset": "Local/x@ctx"}, 400, "bad_handset"),
        ({"station": "1", "mode": "listen"}, 400, "no_handset"),
    ],
)
async def test_refused_coaching_requests_place_no_call(
    sqlite_url: str, tmp_path: Path, form: dict[str, str], status: int, code: str
) -> None:
    from phonebank.db import upgrade

    upgrade(sqlite_url)
    ami = RecordingAmi()
    async with supervisor_world(sqlite_url, tmp_path, ami=ami) as world:
        assert await _coach(world, **form) == (status, {"error": code})
        assert ami.sent == []


async def test_without_javascript_the_forms_redirect_with_a_notice(
    world: SupervisorWorld,
) -> None:
    client = world.web.client
    token = await world.web.csrf("/supervisor")
    saved = await client.post(
        "/supervisor/handset",
        data={"handset": "PJSIP/supervisor", "csrf_token": token},
        allow_redirects=False,
    )
    assert saved.status == 303 and saved.headers["Location"] == "/supervisor?notice=handset_saved"
    page = await (await client.get("/supervisor?notice=handset_saved")).text()
    assert 'value="PJSIP/supervisor"' in page and "Your handset is saved." in page
    coached = await client.post(
        "/supervisor/coach",
        data={"station": "2", "mode": "listen", "csrf_token": token},
        allow_redirects=False,
    )
    assert coached.headers["Location"] == "/supervisor?notice=coach_listen"
    refused = await client.post(
        "/supervisor/coach",
        data={"station": "2", "mode": "listen", "handset": "2", "csrf_token": token},
        allow_redirects=False,
    )
    assert refused.headers["Location"] == "/supervisor?notice=same_station"


async def test_coaching_without_the_asterisk_link_is_unavailable(
    sqlite_url: str, tmp_path: Path
) -> None:
    from phonebank.db import upgrade

    upgrade(sqlite_url)
    async with supervisor_world(sqlite_url, tmp_path, ami=None) as world:
        assert await _coach(world, station="1", mode="listen", handset="3") == (
            503,
            {"error": "no_ami"},
        )
