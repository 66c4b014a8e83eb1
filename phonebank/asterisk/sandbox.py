"""A real Asterisk for development and tests: start, stop, status, CLI.

chroot mode runs Debian sid's Asterisk 22 from a root built once by debootstrap
(see rootfs.py); system mode runs the `asterisk` on PATH. Both use the same
instance layout and rendered configuration (layout.py, render.py), listen on
loopback only, and record what runs in the state file (state.py).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from phonebank.asterisk import procs, rootfs
from phonebank.asterisk.commands import CHROOT_ASTERISK, Launcher, Mode, parse_version
from phonebank.asterisk.errors import SandboxError
from phonebank.asterisk.layout import (
    InstanceLayout,
    chroot_layout,
    discover_install_dirs,
    system_layout,
)
from phonebank.asterisk.render import build_context, render_config
from phonebank.asterisk.state import SandboxState, load_state, save_state, state_dir, state_path
from phonebank.config import Config

log = logging.getLogger(__name__)
MIN_MAJOR = 20


@dataclass(frozen=True)
class SandboxInfo:
    mode: str
    pid: int
    ami_host: str
    ami_port: int
    ami_username: str
    ami_secret: str
    sip_port: int
    instance_dir: Path
    version: str
    already_running: bool = False
    # The instance folder as Asterisk sees it (inside the chroot): paths written into
    # the dialplan or into campaign rows must use this one.
    seen_dir: str = ""


@dataclass(frozen=True)
class SandboxStatus:
    running: bool
    state_file: Path
    info: SandboxInfo | None = None
    # A pid recorded in the state file whose process is gone (or is another program).
    stale_pid: int | None = None


def resolve_mode(wanted: str, which: str | None) -> Mode:
    """auto → the system's asterisk when one is on PATH, else the chroot."""
    if wanted == "system":
        if which is None:
            raise SandboxError('[asterisk] mode = "system" but no `asterisk` is on PATH')
        return "system"
    if wanted == "chroot":
        return "chroot"
    return "system" if which else "chroot"


def read_sandbox_secret(config: Config) -> str | None:
    """The AMI secret the sandbox generated (kept in its state file), if any."""
    state = load_state(config)
    return state.ami_secret if state and state.ami_secret else None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log yet)"


def _port_free(host: str, port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            # As Asterisk does: connections of a previous run in TIME_WAIT do not count.
            # (Not for UDP, where it would let two sockets share the port.)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _check_free(host: str, port: int, kind: int, what: str, grace: float = 5.0) -> None:
    # A just-stopped Asterisk's listening socket can outlive its process for a moment
    # (seen on restart), so wait a little before calling the port taken.
    deadline = time.monotonic() + grace
    while not _port_free(host, port, kind):
        if time.monotonic() >= deadline:
            raise SandboxError(
                f"{what} port {host}:{port} is already in use by another program (another "
                "Asterisk or sandbox?); choose another port in the [asterisk] settings"
            )
        time.sleep(0.1)


class Sandbox:
    def __init__(self, config: Config, progress: rootfs.Progress = log.info) -> None:
        self.config = config
        self.progress = progress
        self._lock = state_dir(config) / "sandbox.lock"

    # -- where things are -------------------------------------------------
    def _launcher(self, state: SandboxState) -> Launcher:
        mode: Mode = "chroot" if state.mode == "chroot" else "system"
        root = Path(state.root) if state.root else None
        binary = CHROOT_ASTERISK if mode == "chroot" else (shutil.which("asterisk") or "asterisk")
        return Launcher(mode=mode, asterisk=binary, conf=state.conf, root=root)

    def _prepare(self, mode: Mode) -> tuple[InstanceLayout, Launcher, Path | None]:
        data_dir = self.config.paths.data_dir.expanduser()
        if mode == "chroot":
            root = rootfs.ensure_root(self.config, self.progress)
            layout = chroot_layout(root, data_dir)
            return layout, Launcher("chroot", CHROOT_ASTERISK, layout.conf_seen, root), root
        binary = shutil.which("asterisk")
        if binary is None:
            raise SandboxError("no `asterisk` on PATH for system mode")
        layout = system_layout(data_dir)
        return layout, Launcher("system", binary, layout.conf_seen), None

    # -- running ----------------------------------------------------------
    def _running_pid(self, state: SandboxState | None) -> int | None:
        if state and state.pid and state.conf and procs.is_our_asterisk(state.pid, state.conf):
            return state.pid
        return None

    def _info(self, state: SandboxState, pid: int, already: bool) -> SandboxInfo:
        return SandboxInfo(
            mode=state.mode,
            pid=pid,
            ami_host=state.ami_host,
            ami_port=state.ami_port,
            ami_username=state.ami_username,
            ami_secret=state.ami_secret,
            sip_port=state.sip_port,
            instance_dir=Path(state.instance_dir),
            version=state.version,
            already_running=already,
            # conf is <instance>/etc/asterisk.conf as Asterisk opens it.
            seen_dir=str(PurePosixPath(state.conf).parent.parent) if state.conf else "",
        )

    def prepare(self) -> str:
        """Build what the sandbox runs from (the Debian root in chroot mode); return its mode."""
        mode = resolve_mode(self.config.asterisk.mode, shutil.which("asterisk"))
        if mode == "chroot":
            rootfs.ensure_root(self.config, self.progress)
        return mode

    def start(self, timeout: float = 90.0) -> SandboxInfo:
        """Start Asterisk (or report the one already running) and wait until it answers."""
        with procs.file_lock(self._lock):
            state = load_state(self.config)
            pid = self._running_pid(state)
            if state and pid:
                return self._info(state, pid, already=True)
            if state and state.pid:
                self._cleanup(state)
            return self._start(state, timeout)

    def _start(self, old: SandboxState | None, timeout: float) -> SandboxInfo:
        cfg = self.config.asterisk
        mode = resolve_mode(cfg.mode, shutil.which("asterisk"))
        _check_free(cfg.ami_host, cfg.ami_port, socket.SOCK_STREAM, "AMI")
        _check_free("127.0.0.1", cfg.sip_port, socket.SOCK_DGRAM, "SIP")
        layout, launcher, root = self._prepare(mode)
        secret = cfg.ami_secret or (old.ami_secret if old else "") or secrets.token_urlsafe(24)
        install = discover_install_dirs(root or Path("/"))
        context = build_context(
            cfg, flavour="sandbox", ami_secret=secret, directories=layout.directories(install)
        )
        layout.create()
        if root is not None:
            rootfs.write_owner(layout, self.config.paths.data_dir.expanduser())
            rootfs.prune_orphans(root, keep=layout.key)
        render_config(context, layout.host("etc"))
        # One log per run, so that a test reads only this start's messages.
        for log_file in (layout.messages_log, layout.console_log):
            if log_file.exists():
                os.replace(log_file, log_file.with_name(log_file.name + ".old"))
        state = SandboxState(
            ami_username=cfg.ami_username,
            ami_secret=secret,
            mode=mode,
            ami_host=cfg.ami_host,
            ami_port=cfg.ami_port,
            sip_port=cfg.sip_port,
            instance_dir=str(layout.host_dir),
            conf=layout.conf_seen,
            root=str(root) if root else "",
        )
        save_state(self.config, state)
        env = launcher.environment(dict(os.environ))
        chown = launcher.chown_argv(str(layout.seen_dir))
        if chown:
            self._run(chown, env, "giving the instance folder to the asterisk user")
        if root is not None:
            rootfs.mount_proc(self.config, root)
        self.progress(f"starting Asterisk ({mode}) with {layout.host('etc/asterisk.conf')}")
        pid = procs.spawn_daemon(launcher.daemon_argv(), env, layout.console_log)
        state = dataclasses.replace(state, pid=pid, started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        save_state(self.config, state)
        try:
            version = self._wait_ready(state, launcher, layout, timeout)
        except BaseException:
            # It never became ready: no console stop, straight to SIGTERM.
            self._cleanup(state, timeout=0.0, ours=True)
            raise
        state = dataclasses.replace(state, version=version)
        save_state(self.config, state)
        return self._info(state, pid, already=False)

    def _run(self, argv: list[str], env: dict[str, str], what: str) -> None:
        result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise SandboxError(f"{what} failed: {' '.join(argv)}: {result.stderr.strip()}")

    def _wait_ready(
        self, state: SandboxState, launcher: Launcher, layout: InstanceLayout, timeout: float
    ) -> str:
        assert state.pid is not None
        deadline = time.monotonic() + timeout
        problem = "AMI port not open yet"
        while time.monotonic() < deadline:
            if not procs.pid_alive(state.pid):
                problem = "Asterisk exited during start-up"
                break
            try:
                with socket.create_connection((state.ami_host, state.ami_port), timeout=1):
                    pass
                left = max(1.0, deadline - time.monotonic())
                self._cli(launcher, "core waitfullybooted", timeout=left)
                version, major = parse_version(self._cli(launcher, "core show version"))
            except (OSError, SandboxError, ValueError) as exc:
                problem = str(exc)
                time.sleep(0.3)
                continue
            if major < MIN_MAJOR:
                raise SandboxError(
                    f"Asterisk {version} is too old: phonebank needs {MIN_MAJOR} or newer"
                )
            return version
        raise SandboxError(
            f"Asterisk did not become ready within {timeout:.0f} s ({problem}).\n"
            f"Last lines of {layout.messages_log}:\n{_tail(layout.messages_log)}\n"
            f"Last lines of {layout.console_log}:\n{_tail(layout.console_log, 10)}"
        )

    def _cli(self, launcher: Launcher, command: str, timeout: float = 30.0) -> str:
        argv = launcher.remote_argv(command)
        try:
            result = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=launcher.environment(dict(os.environ)),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SandboxError(f"`{command}` got no answer within {timeout:.0f} s") from None
        out = result.stdout
        if result.returncode != 0 or "Unable to connect to remote asterisk" in out:
            raise SandboxError(
                f"`asterisk -rx {command!r}` failed (exit {result.returncode}): "
                f"{(out + result.stderr).strip()[-500:]}"
            )
        return out

    def cli(self, command: str, timeout: float = 30.0) -> str:
        """Run one Asterisk CLI command (`asterisk -rx`) and return its output."""
        state = load_state(self.config)
        if not self._running_pid(state) or state is None:
            raise SandboxError(
                "the sandbox Asterisk is not running; "
                "start it with: phonebank asterisk sandbox start"
            )
        return self._cli(self._launcher(state), command, timeout)

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop Asterisk and unmount; True if it was running. Leaves nothing behind."""
        with procs.file_lock(self._lock):
            state = load_state(self.config)
            if state is None:
                return False
            was_running = self._running_pid(state) is not None
            if was_running:
                try:
                    self._cli(self._launcher(state), "core stop now", timeout=timeout)
                except SandboxError as exc:
                    log.info("console stop failed, signalling instead: %s", exc)
            self._cleanup(state, timeout, ours=was_running)
            return was_running

    def _cleanup(self, state: SandboxState, timeout: float = 15.0, ours: bool = False) -> None:
        """Make sure the recorded process is gone, forget its pid, release mounts.

        ours: the pid was checked (or spawned) just before. An exiting process
        loses its command line before it is gone, so it is waited for (and
        reaped) on that word rather than re-identified.
        """
        pid = state.pid
        ours = ours or bool(pid and procs.is_our_asterisk(pid, state.conf))
        if pid and ours and not procs.wait_gone(pid, timeout):
            procs.signal_group(pid, signal.SIGTERM)
            if not procs.wait_gone(pid, 5.0):
                procs.signal_group(pid, signal.SIGKILL)
                if not procs.wait_gone(pid, 5.0):
                    raise SandboxError(f"Asterisk pid {pid} does not die, even after SIGKILL")
        save_state(self.config, dataclasses.replace(state, pid=None))
        if state.root:
            rootfs.release_mounts(self.config, Path(state.root))

    def restart(self, timeout: float = 90.0) -> SandboxInfo:
        self.stop()
        return self.start(timeout)

    def status(self) -> SandboxStatus:
        state = load_state(self.config)
        path = state_path(self.config)
        pid = self._running_pid(state)
        if state is None or pid is None:
            stale = state.pid if state and state.pid else None
            return SandboxStatus(running=False, state_file=path, stale_pid=stale)
        return SandboxStatus(running=True, state_file=path, info=self._info(state, pid, True))

    def remove(self) -> None:
        """Stop, then delete the instance folder (the state file keeps the secret)."""
        self.stop()
        state = load_state(self.config)
        if state and state.instance_dir:
            rootfs.remove_tree(Path(state.instance_dir))
