"""The composition root: build every part from the config and run the service.

Nothing else constructs adapters; they are passed down through constructors.
Each resource is owned by one `async with` block, so Ctrl-C unwinds them in
reverse order and leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import Engine

from phonebank.accounts import routes as account_routes
from phonebank.accounts.repo import SqlAccountRepo
from phonebank.accounts.service import AccountService
from phonebank.admin import routes as admin_routes
from phonebank.admin.followup_parts import FollowUpScreens, ModemWatch
from phonebank.admin.recordings import RecordingStore
from phonebank.agi.fastagi import FastAgiServer
from phonebank.agi.optout import register_optout
from phonebank.agi.registry import default_registry
from phonebank.ami.client import AmiClient, ConnectionState
from phonebank.asterisk.render import PROMPTS_SUBDIR, SYSTEM_VARLIB
from phonebank.asterisk.state import ami_credentials
from phonebank.config import Config
from phonebank.db.engine import make_engine, mask_url, session_factory, writer_session_factory
from phonebank.db.migrate import upgrade
from phonebank.demo_floor import demo_floor
from phonebank.dialer.runner import RunnerSettings
from phonebank.dialing import dialing
from phonebank.followup import routes as followup_routes
from phonebank.followup.routes import UnsubscribeService
from phonebank.followup.workers import composer_for, followup_workers
from phonebank.health import routes as health_routes
from phonebank.health.service import HealthService
from phonebank.live.bus import LiveBus
from phonebank.live.requests import DialDesk
from phonebank.metrics import routes as metrics_routes
from phonebank.metrics.service import Metrics, parse_networks
from phonebank.security.passwords import PasswordHasher
from phonebank.supervisor import routes as supervisor_routes
from phonebank.supervisor.source import DialerLink
from phonebank.telephony.adapter import TELEPHONY_EVENTS
from phonebank.telephony.dnc import SqlDncWriter
from phonebank.volunteer import routes as volunteer_routes
from phonebank.web.accounts_check import AccountRoles
from phonebank.web.app import create_app
from phonebank.web.secret import load_or_create_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Running:
    """What a started service tells its caller (the CLI prints it)."""

    url: str
    database_url: str
    ami_where: str
    agi_port: int


def _display_host(host: str) -> str:
    # Listening on every address: loopback is one of them, and a browser can open it.
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host  # noqa: S104


@contextlib.asynccontextmanager
async def _serving(app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield
    finally:
        await runner.cleanup()


def _ping(engine: Engine) -> Callable[[], None]:
    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return ping


@dataclass(frozen=True)
class DemoFloor:
    """What `phonebank up --demo` adds: simulated handsets and voters, the sandbox's
    folder for campaign recordings."""

    stations: tuple[str, ...]
    recordings: RecordingStore


def _production_recordings() -> RecordingStore:
    # A system Asterisk sees the folder at the same path as this process does.
    folder = f"{SYSTEM_VARLIB}/{PROMPTS_SUBDIR}/campaigns"
    return RecordingStore(host_dir=Path(folder), asterisk_dir=folder)


@contextlib.asynccontextmanager
async def running_service(
    config: Config,
    *,
    migrate: bool = True,
    clock: Callable[[], float] = time.time,
    demo: DemoFloor | None = None,
) -> AsyncIterator[Running]:
    """Start the database, the AMI link, the dialer and the web server; stop them on exit."""
    database_url = config.database_url
    allowed = parse_networks(config.web.metrics_allow)  # a typo fails here, at start
    if migrate:
        await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    try:
        sessions = session_factory(engine)
        _username, secret = ami_credentials(config)
        # The station's bridge events (ConfbridgeJoin/Leave) are needed besides the
        # default set: they say which handsets are off the hook.
        ami = AmiClient.from_config(config.asterisk, secret=secret, event_names=TELEPHONY_EVENTS)
        metrics = Metrics()
        ami.add_state_listener(
            lambda state: metrics.ami_connected.set(1 if state is ConnectionState.CONNECTED else 0)
        )
        # The service comes up even when Asterisk is down; the client keeps retrying.
        await ami.start()
        try:
            registry = default_registry()
            # Call-backs to the caller ID can ask never to be called again (press 1).
            register_optout(registry, SqlDncWriter(engine))
            async with FastAgiServer(registry, port=config.asterisk.agi_port) as agi:
                account_repo = SqlAccountRepo(sessions, writers=writer_session_factory(engine))
                accounts = AccountService(account_repo, PasswordHasher(), clock)
                health = HealthService(_ping(engine), ami, clock)
                key = load_or_create_secret(
                    config.web.secret_key, config.paths.data_dir / "web-secret"
                )
                writers = writer_session_factory(engine)
                # The same key signs the unsubscribe links of the e-mails.
                unsubscribe = UnsubscribeService(writers, key, clock)
                # Call pops and station states between the dialer and the screens.
                bus, desk = LiveBus(), DialDesk()
                # The follow-up pages show the modem of workers started after the app,
                # the wallboard the dialer started after it too.
                modem, floor = ModemWatch(), DialerLink()
                app = create_app(
                    secret_key=key,
                    clock=clock,
                    features=[
                        health_routes.setup(health),
                        account_routes.setup(accounts),
                        metrics_routes.setup(metrics, allowed),
                        followup_routes.setup(unsubscribe),
                        volunteer_routes.setup(
                            bus=bus, desk=desk, readers=sessions, writers=writers, clock=clock
                        ),
                        admin_routes.setup(
                            engine=engine,
                            clock=clock,
                            hasher=PasswordHasher(),
                            recordings=demo.recordings if demo else _production_recordings(),
                            work_dir=config.paths.data_dir / "admin",
                            followup=FollowUpScreens(composer_for(config), modem.view),
                        ),
                        supervisor_routes.setup(
                            engine=engine, clock=clock, floor=floor, bus=bus, ami=ami
                        ),
                    ],
                    secure_cookies=config.web.secure_cookies,
                    # A disabled account or a changed role counts within seconds.
                    roles=AccountRoles(account_repo.current_role, clock),
                )
                async with contextlib.AsyncExitStack() as parts:
                    dialer = await parts.enter_async_context(
                        dialing(
                            engine=engine,
                            ami=ami,
                            bus=bus,
                            desk=desk,
                            metrics=metrics,
                            clock=clock,
                            trunk="sim" if demo else "",
                            settings=RunnerSettings(
                                heartbeat_seconds=config.dialer.heartbeat_seconds,
                                stale_after=config.dialer.dead_after_seconds,
                                recover_seconds=config.dialer.recover_seconds,
                            ),
                        )
                    )
                    floor.attach(dialer)
                    if demo is not None:
                        await parts.enter_async_context(demo_floor(ami, bus, demo.stations, clock))
                    modem.workers = await parts.enter_async_context(
                        followup_workers(config, engine, clock)
                    )
                    await parts.enter_async_context(_serving(app, config.web.host, config.web.port))
                    yield Running(
                        url=f"http://{_display_host(config.web.host)}:{config.web.port}/",
                        database_url=mask_url(database_url),
                        ami_where=ami.where,
                        agi_port=agi.port,
                    )
        finally:
            await ami.close()
    finally:
        engine.dispose()
