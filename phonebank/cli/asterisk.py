"""`phonebank asterisk ...`: the sandbox Asterisk, its console, and config rendering."""

from __future__ import annotations

import argparse
import dataclasses
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

from phonebank.asterisk.errors import AsteriskError
from phonebank.asterisk.render import build_context, render_config
from phonebank.asterisk.rootfs import remove_root
from phonebank.asterisk.sandbox import Sandbox, SandboxInfo
from phonebank.cli.errors import CommandError
from phonebank.config import Config

_SANDBOX_HELP = """\
The sandbox is a real Asterisk 22 for trying phonebank out and for the tests.
It listens on this computer only (127.0.0.1): nothing on the network can reach it.
Where no Asterisk is installed, the first start builds a small Debian system
holding one (about 720 MB in ~/.cache/phonebank, about a minute; needs root and the
debootstrap package); later starts take seconds.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "asterisk",
        help="run the sandbox Asterisk, talk to its console, render its configuration",
        description="Asterisk is the telephone exchange phonebank drives. These commands "
        "start a sandbox Asterisk for trying things out, send it console commands, and "
        "write the configuration files for a real phone-bank box.",
    )
    sub = parser.add_subparsers(dest="asterisk_command", metavar="COMMAND")
    sub.required = True

    sandbox = sub.add_parser(
        "sandbox",
        help="start, stop or inspect the sandbox Asterisk",
        description=_SANDBOX_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION")
    actions.required = True
    start = actions.add_parser(
        "start",
        help="start the sandbox (does nothing if it already runs)",
        description="Start the sandbox Asterisk in the background and wait until it "
        "answers. Prints where it listens. Running it twice is harmless.",
    )
    start.add_argument(
        "--timeout",
        type=float,
        default=90.0,
        metavar="SECONDS",
        help="how long to wait for Asterisk to be ready (default 90)",
    )
    start.add_argument("--json", action="store_true", help="print the details as JSON")
    start.set_defaults(handler=run_start)
    stop = actions.add_parser(
        "stop",
        help="stop the sandbox",
        description="Stop the sandbox Asterisk and clean up after it. Harmless if it "
        "is not running.",
    )
    stop.set_defaults(handler=run_stop)
    status = actions.add_parser(
        "status",
        help="say whether the sandbox runs, and where",
        description="Show whether the sandbox Asterisk runs: its mode, process id, "
        "version, the AMI address phonebank connects to, the SIP port and its folder. "
        "Exit code 0 when it runs, 3 when it does not.",
    )
    status.add_argument("--json", action="store_true", help="print the details as JSON")
    status.add_argument(
        "--show-secret", action="store_true", help="include the AMI password in the output"
    )
    status.set_defaults(handler=run_status)
    prepare = actions.add_parser(
        "prepare",
        help="build what the sandbox needs, without starting it",
        description="Build the Debian system holding Asterisk (chroot mode) if it is not "
        "built yet, so that later starts take seconds. With a system Asterisk there is "
        "nothing to build. `make test` and `make demo` run this first.",
    )
    prepare.set_defaults(handler=run_prepare)
    reset = actions.add_parser(
        "reset-root",
        help="delete the built Debian system so the next start rebuilds it",
        description="Delete the Debian system the sandbox Asterisk runs from "
        "(~/.cache/phonebank/asterisk-root), safely: refuses while a sandbox runs, and "
        "unmounts first. The next `sandbox start` builds it again.",
    )
    reset.set_defaults(handler=run_reset_root)

    cli = sub.add_parser(
        "cli",
        help="run one Asterisk console command in the sandbox",
        description="Run one command on the sandbox Asterisk's console and print the "
        'answer, e.g.  phonebank asterisk cli "core show channels"',
    )
    cli.add_argument("command", metavar='"COMMAND"', help="the console command, quoted")
    cli.set_defaults(handler=run_cli)

    render = sub.add_parser(
        "render",
        help="write Asterisk configuration files for a real phone-bank box",
        description="Write the Asterisk configuration (for /etc/asterisk) from your "
        "phonebank settings: SIP trunk, handsets on the analog card, AMI login, "
        "dialplan. Review the files, then copy them into /etc/asterisk and reload "
        "Asterisk. If [asterisk] ami_secret is not set, a new AMI password is generated "
        "and printed once: put it in the phonebank settings as ami_secret.",
    )
    render.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write the .conf files into (created if needed)",
    )
    render.set_defaults(handler=run_render)

    prompts = sub.add_parser(
        "prompts",
        help="speak phonebank's prompts (safe-harbor, voicemail, call-back line) into WAV files",
        description="Make the prompts the dialplan plays (French and English, 8 kHz WAV, "
        "with espeak-ng and sox): by default into the sandbox, or --out DIR (on a system "
        "Asterisk: /var/lib/asterisk/sounds/phonebank).",
    )
    prompts.add_argument("--out", type=Path, metavar="DIR", help="where to write them")
    prompts.add_argument("--organisation", default="", help="who calls, as said in the prompts")
    prompts.add_argument("--callback-number", default="", help="the number to call back")
    prompts.set_defaults(handler=run_prompts)


def _fail(exc: AsteriskError) -> CommandError:
    return CommandError(str(exc))


def _describe(info: SandboxInfo, show_secret: bool) -> dict[str, Any]:
    data = dataclasses.asdict(info)
    data["instance_dir"] = str(info.instance_dir)
    if not show_secret:
        data["ami_secret"] = "********"  # noqa: S105 - a mask, not a password
    return data


def _print_info(info: SandboxInfo, show_secret: bool) -> None:
    print(f"mode:         {info.mode}")
    print(f"pid:          {info.pid}")
    print(f"version:      Asterisk {info.version}")
    print(f"AMI:          {info.ami_host}:{info.ami_port} (user {info.ami_username})")
    if show_secret:
        print(f"AMI secret:   {info.ami_secret}")
    print(f"SIP (UDP):    127.0.0.1:{info.sip_port}")
    print(f"folder:       {info.instance_dir}")
    print(f"log:          {info.instance_dir / 'log' / 'messages'}")


def run_start(args: argparse.Namespace, config: Config) -> int:
    try:
        info = Sandbox(config, progress=print).start(timeout=args.timeout)
    except AsteriskError as exc:
        raise _fail(exc) from None
    if args.json:
        print(json.dumps(_describe(info, show_secret=False), indent=2))
        return 0
    print(
        "the sandbox Asterisk was already running"
        if info.already_running
        else "the sandbox Asterisk is running"
    )
    _print_info(info, show_secret=False)
    return 0


def run_stop(args: argparse.Namespace, config: Config) -> int:
    try:
        was_running = Sandbox(config).stop()
    except AsteriskError as exc:
        raise _fail(exc) from None
    print(
        "the sandbox Asterisk is stopped" if was_running else "the sandbox Asterisk was not running"
    )
    return 0


def run_status(args: argparse.Namespace, config: Config) -> int:
    try:
        status = Sandbox(config).status()
    except AsteriskError as exc:
        raise _fail(exc) from None
    if args.json:
        data: dict[str, Any] = {
            "running": status.running,
            "state_file": str(status.state_file),
            "stale_pid": status.stale_pid,
        }
        if status.info:
            data.update(_describe(status.info, args.show_secret))
        print(json.dumps(data, indent=2))
    elif status.info:
        print("the sandbox Asterisk is running")
        _print_info(status.info, args.show_secret)
    else:
        print("the sandbox Asterisk is not running")
        if status.stale_pid:
            print(
                f"(pid {status.stale_pid} recorded in {status.state_file} is gone; "
                "`phonebank asterisk sandbox stop` tidies up)"
            )
    return 0 if status.running else 3


def run_prepare(args: argparse.Namespace, config: Config) -> int:
    try:
        mode = Sandbox(config, progress=print).prepare()
    except AsteriskError as exc:
        raise _fail(exc) from None
    if mode == "chroot":
        print(f"the Debian root with Asterisk is ready in {config.paths.cache_dir}")
    else:
        print("using the system's asterisk: nothing to build")
    return 0


def run_reset_root(args: argparse.Namespace, config: Config) -> int:
    try:
        root = remove_root(config)
    except AsteriskError as exc:
        raise _fail(exc) from None
    print(f"removed {root}; the next `phonebank asterisk sandbox start` rebuilds it")
    return 0


def run_cli(args: argparse.Namespace, config: Config) -> int:
    try:
        print(Sandbox(config).cli(args.command), end="")
    except AsteriskError as exc:
        raise _fail(exc) from None
    return 0


def run_render(args: argparse.Namespace, config: Config) -> int:
    secret = config.asterisk.ami_secret
    generated = not secret
    if generated:
        secret = secrets.token_urlsafe(24)
    try:
        context = build_context(
            config.asterisk, flavour="production", ami_secret=secret, directories=None, run_user=""
        )
        written = render_config(context, args.out)
    except AsteriskError as exc:
        raise _fail(exc) from None
    print(f"wrote {len(written)} files to {args.out}:")
    for path in written:
        print(f"  {path.name}")
    if generated:
        print()
        print("A new AMI password was generated (it is in manager.conf and shown only now).")
        print("Put it in the phonebank settings so the service can log in:")
        print()
        print("  [asterisk]")
        print(f'  ami_secret = "{secret}"')
    if shutil.which("asterisk") is None:
        print()
        print(
            "note: no `asterisk` is installed on this computer; install Asterisk 20 or newer "
            "on the phone-bank box, copy these files to /etc/asterisk there, and run "
            '`asterisk -rx "core reload"`.'
        )
    return 0


def run_prompts(args: argparse.Namespace, config: Config) -> int:
    from phonebank.asterisk.render import PROMPTS_SUBDIR
    from phonebank.asterisk.state import load_state
    from phonebank.telephony.prompts import PromptSettings, generate_prompts

    out: Path | None = args.out
    if out is None:
        state = load_state(config)
        if state is None or not state.instance_dir:
            raise CommandError(
                "no sandbox yet: run `phonebank asterisk sandbox start` first, or pass --out DIR"
            )
        out = Path(state.instance_dir) / "lib" / PROMPTS_SUBDIR
    settings = PromptSettings(args.organisation, args.callback_number)
    try:
        written = generate_prompts(out, settings)
    except (OSError, RuntimeError) as exc:
        raise CommandError(f"making the prompts failed: {exc}") from None
    print(f"wrote {len(written)} prompts into {out}")
    return 0
