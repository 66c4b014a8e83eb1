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

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import Engine

from phonebank.accounts import routes as account_routes
from phonebank.accounts.repo import SqlAccountRepo
from phonebank.accounts.service import AccountService
from phonebank.ami.client import AmiClient
from phonebank.config import Config
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.migrate import upgrade
from phonebank.health import routes as health_routes
from phonebank.health.service import HealthService
from phonebank.security.passwords import PasswordHasher
from phonebank.web.app import create_app
from phonebank.web.secret import load_or_create_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AmiCredentials:
    host: str
    port: int
    username: str
    secret: str


@dataclass(frozen=True)
class Running:
    """What a started service tells its caller (the CLI prints it)."""

    url: str
    database_url: str
    ami: AmiCredentials


def resolve_ami_credentials(config: Config) -> AmiCredentials:
    """The configured AMI secret, else the one the local sandbox generated."""
    section = config.asterisk
    secret = section.ami_secret
    if not secret:
        from phonebank.asterisk.sandbox import read_sandbox_secret

        secret = read_sandbox_secret(config) or ""
    if not secret:
        raise RuntimeError(
            "no AMI secret: set [asterisk] ami_secret (or PHONEBANK_ASTERISK_AMI_SECRET) to the "
            "secret of the 'phonebank' user in /etc/asterisk/manager.conf, or start the sandbox "
            "with 'phonebank asterisk sandbox start'"
        )
    return AmiCredentials(section.ami_host, section.ami_port, section.ami_username, secret)


def _ping(engine: Engine) -> Callable[[], None]:
    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return ping


@contextlib.asynccontextmanager
async def running_service(
    config: Config, *, migrate: bool = True, clock: Callable[[], float] = time.time
) -> AsyncIterator[Running]:
    """Start the database, the AMI link and the web server; stop them on exit."""
    database_url = config.database_url
    if migrate:
        await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    try:
        sessions = session_factory(engine)
        credentials = resolve_ami_credentials(config)
        ami = AmiClient(
            host=credentials.host,
            port=credentials.port,
            username=credentials.username,
            secret=credentials.secret,
            reconnect_min=config.asterisk.reconnect_min,
            reconnect_max=config.asterisk.reconnect_max,
        )
        # The service comes up even when Asterisk is down; the client keeps retrying.
        await ami.start()
        try:
            accounts = AccountService(SqlAccountRepo(sessions), PasswordHasher(), clock)
            health = HealthService(_ping(engine), ami, clock)
            secret = load_or_create_secret(
                config.web.secret_key, config.paths.data_dir / "web-secret"
            )
            app = create_app(
                secret_key=secret,
                clock=clock,
                features=[health_routes.setup(health), account_routes.setup(accounts)],
                secure_cookies=config.web.secure_cookies,
            )
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, config.web.host, config.web.port)
                await site.start()
                host = (
                    "localhost"
                    # Listening on every address: loopback is one of them.
                    if config.web.host in ("127.0.0.1", "0.0.0.0", "::")  # noqa: S104
                    else config.web.host
                )
                yield Running(f"http://{host}:{config.web.port}/", database_url, credentials)
            finally:
                await runner.cleanup()
        finally:
            await ami.close()
    finally:
        engine.dispose()
