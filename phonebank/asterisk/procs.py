"""Processes and mounts as Linux shows them in /proc (host side of the sandbox)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path


def spawn_daemon(argv: Sequence[str], env: dict[str, str], log_path: Path) -> int:
    """Start argv in a new session, stdin from /dev/null, output appended to log_path.

    posix_spawn rather than subprocess.Popen: the process outlives this call
    (and often this program), and a Popen object would warn when collected.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    return os.posix_spawnp(argv[0], list(argv), env, file_actions=actions, setsid=True)


def _reap(pid: int) -> bool | None:
    """Collect our own exited child so it does not linger as a zombie.

    True: collected; False: our child, not collectable yet; None: not our child.
    """
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return done == pid


def pid_state(pid: int) -> str | None:
    """The state letter of pid (R, S, Z, ...) or None when there is no such process."""
    return pid_state_path(Path(f"/proc/{pid}/stat"))


def _live_threads(pid: int) -> bool:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    return any(pid_state_path(task / "stat") not in (None, "Z", "X") for task in tasks)


def pid_state_path(stat_path: Path) -> str | None:
    try:
        stat = stat_path.read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name in parentheses may hold spaces: the state follows the last ')'.
    return stat.rsplit(")", 1)[1].split()[0]


def pid_alive(pid: int) -> bool:
    state = pid_state(pid)
    if state in ("Z", "X"):
        # Exited: collect it if it is our child (else init will). A leader
        # whose other threads still run also shows Z, and cannot be collected
        # yet: it is alive until they end (and, for our child, until collected).
        reaped = _reap(pid)
        if reaped is None:
            return _live_threads(pid)
        return not reaped
    return state is not None


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_our_asterisk(pid: int, conf: str) -> bool:
    """pid is alive and is the Asterisk started with `-C conf` (not a reused pid)."""
    if not pid_alive(pid):
        return False
    args = cmdline(pid)
    # A remote console (`asterisk -rx`) names the same conf: it is not the daemon.
    return any(a.endswith("asterisk") for a in args) and conf in args and "-rx" not in args


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the session Asterisk leads (it and any AGI children), else pid alone."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _decode_mount_path(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below path, deepest first (the order to unmount them)."""
    base = str(path.resolve())
    found: list[Path] = []
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        point = _decode_mount_path(fields[1])
        if point == base or point.startswith(base + "/"):
            found.append(Path(point))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def processes_in_root(root: Path) -> list[int]:
    """Live processes whose root directory is `root` (chrooted into it)."""
    target = str(root.resolve())
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            link = os.readlink(entry / "root")
        except OSError:
            continue
        if (link == target or link.startswith(target + "/")) and pid_alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (flock on path), released on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
