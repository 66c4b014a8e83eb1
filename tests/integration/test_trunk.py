"""The SIP trunk with a provider's credentials, against SIPp playing the provider.

A sandbox of its own is rendered with `carrier_register` and digest credentials;
SIPp checks the digest Asterisk computes (it knows the password too), so a wrong
username, password or realm handling fails the test.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from phonebank.ami import AmiClient
from phonebank.asterisk.sandbox import Sandbox
from phonebank.config import Config
from tests.fixtures.asterisk import extra_sandbox_config
from tests.fixtures.ports import free_port
from tests.fixtures.sipp import SIPP_DIR, run_sipp
from tests.fixtures.telephony import user_event, wait_for

pytestmark = pytest.mark.asterisk

USER = "phonebank-trunk"
PASSWORD = "Tr0nc-s3cret-42"


@pytest.fixture(scope="module")
def trunk_config(asterisk_config: Config, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return extra_sandbox_config(
        asterisk_config,
        tmp_path_factory.mktemp("trunk-sandbox"),
        (23000, 23999),
        carrier_username=USER,
        carrier_secret=PASSWORD,
        carrier_register=True,
        carrier_domain="provider.test",
    )


def _sipp_args(config: Config, scenario: str) -> list[str]:
    return [
        "-sf",
        str(SIPP_DIR / scenario),
        "-i",
        "127.0.0.1",
        "-p",
        str(config.asterisk.carrier_port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_port(socket.SOCK_DGRAM)),
        "-set",
        "user",
        USER,
        "-set",
        "pass",
        PASSWORD,
    ]


@pytest.fixture(scope="module")
def registered(
    trunk_config: Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Sandbox, int, str]]:
    """The provider's registrar is listening first, then Asterisk starts and registers.

    Yields the sandbox, SIPp's exit status and the SIP messages it saw."""
    messages = tmp_path_factory.mktemp("registrar") / "messages.log"

    async def start() -> tuple[Sandbox, int, str]:
        registrar = asyncio.create_task(
            run_sipp(
                *_sipp_args(trunk_config, "registrar_digest.xml"),
                "-trace_msg",
                "-message_file",
                str(messages),
                within=30,
            )
        )
        await asyncio.sleep(0.5)  # SIPp binds its port
        sandbox = Sandbox(trunk_config)
        await asyncio.to_thread(sandbox.start)
        code, out = await registrar
        assert code == 0, out
        return sandbox, code, messages.read_text()

    sandbox, code, out = asyncio.run(start())
    try:
        yield sandbox, code, out
    finally:
        sandbox.remove()


def test_the_box_registers_with_the_provider_using_its_credentials(
    registered: tuple[Sandbox, int, str],
) -> None:
    sandbox, _code, log = registered
    status = sandbox.cli("pjsip show registrations")
    line = next(row for row in status.splitlines() if "carrier-registration/" in row)
    assert "Registered" in line, status
    # The address of record is the account at the provider's domain.
    register = log.split("REGISTER sip:", 2)[2].split("\n\n", 1)[0]
    to_header = next(row for row in register.splitlines() if row.startswith("To:"))
    assert f"sip:{USER}@provider.test" in to_header, register
    assert f'username="{USER}"' in register and 'realm="provider.test"' in register


async def test_a_call_answers_the_providers_challenge(
    registered: tuple[Sandbox, int, str], trunk_config: Config, tmp_path: Path
) -> None:
    sandbox, _code, _out = registered
    info = sandbox.status().info
    assert info is not None
    messages = tmp_path / "sipp-messages.log"
    client = AmiClient(
        host=info.ami_host,
        port=info.ami_port,
        username=info.ami_username,
        secret=info.ami_secret,
        event_names=None,
    )
    await client.connect()
    events = client.events()
    attempt = f"t-{uuid.uuid4().hex[:10]}"
    try:
        carrier = asyncio.create_task(
            run_sipp(
                *_sipp_args(trunk_config, "uas_digest.xml"),
                "-trace_msg",
                "-message_file",
                str(messages),
                within=30,
            )
        )
        await asyncio.sleep(0.5)
        result = await client.originate(
            "Local/0612345678@phonebank-outbound/n",
            context="phonebank-answered",
            exten="s",
            variables={"PHONEBANK_ATTEMPT": attempt, "PHONEBANK_CALLERID": "0199000042"},
            timeout_ms=10_000,
        )
        assert result.success, result
        # Answered only after the digest checked out; SIPp sends no audio, so AMD
        # ends the call (not a person) and Asterisk hangs up.
        await wait_for(events, user_event("PhonebankAmd", attempt=attempt), within=20)
        code, out = await carrier
        assert code == 0, out
    finally:
        events.close()
        await client.close()
    log = messages.read_text()
    assert "401 Unauthorized" in log
    assert f'username="{USER}"' in log
    assert "403 Forbidden" not in log
    invite = log.split("INVITE sip:", 2)[2].split("\n\n", 1)[0]  # the authenticated one
    from_header = next(line for line in invite.splitlines() if line.startswith("From:"))
    assert "0199000042" in from_header
