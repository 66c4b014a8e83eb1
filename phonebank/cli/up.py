"""`phonebank up [--demo]`: run the service until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phonebank.cli.errors import CommandError
from phonebank.config import Config

if TYPE_CHECKING:
    from phonebank.service import DemoFloor


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run the phone bank service (web + Asterisk link)",
        description="Run the phone bank: the web service on [web] host:port (default "
        "127.0.0.1:8080, GET /healthz for monitoring) connected to Asterisk over AMI. "
        "Stops cleanly on Ctrl-C or SIGTERM.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="also start the sandbox Asterisk, seed a demo campaign and print the demo logins "
        "(new passwords each run); stops the sandbox again on exit if it started it",
    )
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not bring the database schema up to date at start "
        "(run 'phonebank db upgrade' yourself)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        return asyncio.run(_serve(config, demo=args.demo, migrate=not args.no_migrate))
    except (RuntimeError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot start: {exc}") from exc


async def _serve(config: Config, *, demo: bool, migrate: bool) -> int:
    from phonebank.service import running_service

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        logins: list[tuple[str, str, str]] = []
        floor = None
        if demo:
            logins, floor = await _start_demo(config, stack)
        running = await stack.enter_async_context(
            running_service(config, migrate=migrate, demo=floor)
        )
        print(f"Phonebank is running at {running.url}  (health: {running.url}healthz)")
        print(f"Database: {running.database_url}")
        print(f"Asterisk AMI: {running.ami_where}; FastAGI on 127.0.0.1:{running.agi_port}")
        if logins:
            print("Demo logins (valid until the next 'make demo'):")
            for role, username, password in logins:
                print(f"  {role:<11} {username:<12} {password}")
            print(
                "Demo floor: the 15 stations' handsets are simulated and off the hook, and "
                "the campaign is dialling simulated voters. Log in as volunteer and pair with "
                "a station to take its calls; the stations nobody pairs with are simulated "
                "volunteers."
            )
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
        print(
            "Stopping… (calls still ringing may take up to 35 s to end; calls in progress "
            "are not cut)",
            file=sys.stderr,
            flush=True,
        )
    print("Stopped; nothing left running.", file=sys.stderr, flush=True)
    return 0


async def _start_demo(
    config: Config, stack: contextlib.AsyncExitStack
) -> tuple[list[tuple[str, str, str]], DemoFloor]:
    from phonebank.admin.recordings import RecordingStore
    from phonebank.asterisk.render import PROMPTS_SUBDIR
    from phonebank.asterisk.sandbox import Sandbox
    from phonebank.db.migrate import upgrade
    from phonebank.demo import DEMO_CALLBACK_NUMBER, DEMO_ORGANISATION, STATIONS, seed_demo
    from phonebank.service import DemoFloor
    from phonebank.telephony.prompts import PromptSettings, generate_prompts

    sandbox = Sandbox(config)
    was_running = (await asyncio.to_thread(sandbox.status)).running
    info = await asyncio.to_thread(sandbox.start)
    if not was_running:
        stack.push_async_callback(asyncio.to_thread, sandbox.stop)
    print(f"Asterisk sandbox: {info.mode}, pid {info.pid}, version {info.version}", flush=True)
    # The safe-harbor, voicemail and call-back prompts the demo campaign plays.
    settings = PromptSettings(DEMO_ORGANISATION, DEMO_CALLBACK_NUMBER)
    prompts_dir = Path(info.instance_dir) / "lib" / PROMPTS_SUBDIR
    await asyncio.to_thread(generate_prompts, prompts_dir, settings)
    await asyncio.to_thread(upgrade, config.database_url)
    logins = await asyncio.to_thread(seed_demo, config.database_url)
    # Campaign recordings go beside the prompts; Asterisk sees that folder through its
    # own root (the chroot), so rows store its path as Asterisk sees it.
    recordings = RecordingStore(
        host_dir=prompts_dir / "campaigns",
        asterisk_dir=f"{info.seen_dir}/lib/{PROMPTS_SUBDIR}/campaigns",
    )
    stations = tuple(str(n) for n in range(1, STATIONS + 1))
    return logins, DemoFloor(stations=stations, recordings=recordings)
