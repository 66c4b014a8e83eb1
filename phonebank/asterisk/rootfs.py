"""The Debian sid root that the chrooted sandbox Asterisk runs from.

Built once by debootstrap into `cache_dir/asterisk-root` and reused by every
sandbox (a developer's demo and the tests alike). It is built in a temporary
folder beside its final place and renamed only when complete, under a lock, so
a half-built root is never used. /proc is mounted into it only while an
Asterisk runs there, and unmounted when the last one stops.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from phonebank.asterisk import commands, procs
from phonebank.asterisk.errors import RootBuildError, SandboxError
from phonebank.asterisk.layout import INSTANCES_IN_ROOT, InstanceLayout
from phonebank.config import Config

log = logging.getLogger(__name__)

# Bump when the recipe below changes, so that old roots are reported as stale.
RECIPE = 1
MARKER = ".phonebank-root.json"
# Written in each instance folder in the root: whose sandbox it is.
OWNER_FILE = "owner.json"
Progress = Callable[[str], None]


def root_path(config: Config) -> Path:
    return config.paths.cache_dir.expanduser() / "asterisk-root"


def lock_path(config: Config) -> Path:
    return config.paths.cache_dir.expanduser() / "asterisk-root.lock"


def build_log_path(config: Config) -> Path:
    return config.paths.cache_dir.expanduser() / "asterisk-root.build.log"


def is_built(root: Path) -> bool:
    return (root / MARKER).is_file()


def marker(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / MARKER).read_text())
    return data


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _run_logged(argv: Sequence[str], log_file: Path, env: dict[str, str], what: str) -> None:
    with log_file.open("a") as handle:
        handle.write(f"\n$ {' '.join(argv)}\n")
        handle.flush()
        result = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, check=False)
    if result.returncode != 0:
        raise RootBuildError(
            f"{what} failed (exit {result.returncode}); see {log_file}. Last lines:\n"
            f"{_tail(log_file)}"
        )


def unmount_all(path: Path) -> None:
    """Unmount everything mounted at or below path; raise if something stays."""
    for point in procs.mounts_under(path):
        result = subprocess.run(["umount", str(point)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # Lazy unmount as the last resort: detaches now, frees when unused.
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
    left = procs.mounts_under(path)
    if left:
        raise SandboxError(f"could not unmount {', '.join(map(str, left))}")


def remove_tree(path: Path) -> None:
    """rm -rf that first makes sure no host file system is mounted inside."""
    if not path.exists():
        return
    unmount_all(path)
    shutil.rmtree(path)


def _fix_up(root: Path, log_file: Path) -> None:
    """The manual steps TESTING.md lists, done once on the fresh root."""
    env = dict(commands.CHROOT_ENV, DEBIAN_FRONTEND="noninteractive")
    _run_logged(commands.apt_dahdi_argv(root), log_file, env, "installing asterisk-dahdi")
    _run_logged(["chroot", str(root), "apt-get", "clean"], log_file, env, "apt-get clean")
    sounds = root / "usr/share/asterisk/sounds"
    # Prompts are looked up as sounds/<language>/. Debian's postinst links `en`
    # (through /etc/alternatives, absolute: dangling when seen from the host);
    # nothing links `fr`.
    for lang, folder in (("en", "en_US_f_Allison"), ("fr", "fr_CA_f_June")):
        link = sounds / lang
        if (sounds / folder).is_dir() and not os.path.lexists(link):
            link.symlink_to(folder)
    dirs = [
        "/var/lib/asterisk",
        "/var/log/asterisk",
        "/var/spool/asterisk",
        "/var/cache/asterisk",
        "/run/asterisk",
    ]
    mkdir = ["chroot", str(root), "mkdir", "-p", *dirs, "/srv/phonebank"]
    _run_logged(mkdir, log_file, env, "mkdir")
    # uids inside the root differ from the host's: chown from inside.
    owner = f"{commands.CHROOT_USER}:{commands.CHROOT_USER}"
    _run_logged(["chroot", str(root), "chown", "-R", owner, *dirs], log_file, env, "chown")
    version = subprocess.run(
        ["chroot", str(root), commands.CHROOT_ASTERISK, "-V"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    ).stdout.strip()
    if not version.startswith("Asterisk"):
        raise RootBuildError(f"the built root has no working asterisk binary ({version!r})")


def _check_host() -> None:
    if os.geteuid() != 0:
        raise RootBuildError(
            "the chrooted Asterisk sandbox needs root (debootstrap, chroot, mount); "
            "run as root, or install Asterisk 20 or newer on the system and set "
            '[asterisk] mode = "system"'
        )
    if shutil.which("debootstrap") is None:
        raise RootBuildError(
            "debootstrap is not installed; install it with: apt-get install debootstrap"
        )


def ensure_root(config: Config, progress: Progress = log.info) -> Path:
    """Return the built root, building it first if needed (minutes, once)."""
    root = root_path(config)
    if is_built(root):
        return root
    _check_host()
    with procs.file_lock(lock_path(config)):
        if is_built(root):  # another process finished it while we waited
            return root
        cache = root.parent
        cache.mkdir(parents=True, exist_ok=True)
        for leftover in cache.glob("asterisk-root.build-*"):
            progress(f"removing an unfinished build: {leftover}")
            remove_tree(leftover)
        if root.exists():
            # A root without its marker was never finished; never reuse it.
            progress(f"removing an incomplete root: {root}")
            remove_tree(root)
        tmp = cache / f"asterisk-root.build-{os.getpid()}"
        log_file = build_log_path(config)
        log_file.write_text("")
        progress(
            f"building the Asterisk root in {root} with debootstrap "
            f"(Debian {config.asterisk.debian_suite}; once, a few minutes; log: {log_file})"
        )
        started = time.monotonic()
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
        try:
            suite, mirror = config.asterisk.debian_suite, config.asterisk.debian_mirror
            _run_logged(commands.debootstrap_argv(suite, tmp, mirror), log_file, env, "debootstrap")
            _fix_up(tmp, log_file)
            unmount_all(tmp)  # debootstrap may leave /proc or /sys mounted
            (tmp / MARKER).write_text(
                json.dumps(
                    {
                        "recipe": RECIPE,
                        "suite": config.asterisk.debian_suite,
                        "mirror": config.asterisk.debian_mirror,
                        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    },
                    indent=2,
                )
            )
            os.rename(tmp, root)
        except BaseException:
            remove_tree(tmp)
            raise
        progress(f"Asterisk root ready in {time.monotonic() - started:.0f} s: {root}")
    return root


def mount_proc(config: Config, root: Path) -> None:
    """Mount /proc into the root unless already there (another sandbox may run)."""
    with procs.file_lock(lock_path(config)):
        target = root / "proc"
        if target.resolve() in procs.mounts_under(target):
            return
        argv = ["mount", "-t", "proc", "proc", str(target)]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SandboxError(f"could not mount /proc at {target}: {result.stderr.strip()}")


def release_mounts(config: Config, root: Path) -> bool:
    """Unmount the root's mounts if no process runs in it any more; True if none are left."""
    with procs.file_lock(lock_path(config)):
        users = procs.processes_in_root(root)
        if users:
            log.info("leaving %s mounted: still used by pids %s", root, users)
            return False
        unmount_all(root)
        return True


def remove_root(config: Config) -> Path:
    """Delete the built root (to rebuild it), refusing while a sandbox uses it."""
    root = root_path(config)
    with procs.file_lock(lock_path(config)):
        users = procs.processes_in_root(root) if root.exists() else []
        if users:
            raise SandboxError(
                f"{root} is in use by pids {users}; stop the sandboxes first "
                "(phonebank asterisk sandbox stop)"
            )
        remove_tree(root)
    return root


def write_owner(layout: InstanceLayout, data_dir: Path) -> None:
    owner = {"data_dir": str(data_dir.resolve()), "conf": layout.conf_seen}
    layout.host(OWNER_FILE).write_text(json.dumps(owner))


def prune_orphans(root: Path, keep: str) -> None:
    """Delete instance folders in the shared root whose data_dir is gone.

    Test runs use throwaway data_dirs; a run that was killed before its
    teardown would otherwise leave its folder in the cached root for good.
    """
    for folder in (root / INSTANCES_IN_ROOT.relative_to("/")).glob("sb-*"):
        if folder.name == keep:
            continue
        try:
            owner = json.loads((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if Path(owner["data_dir"]).exists():
            continue
        # Its state (and so its pid) went with the data_dir: nobody can stop this
        # Asterisk any more, so stop it here rather than let it run for ever.
        for pid in procs.processes_in_root(root):
            if procs.is_our_asterisk(pid, owner["conf"]):
                log.warning("stopping orphaned sandbox Asterisk pid %s (%s)", pid, folder)
                procs.signal_group(pid, signal.SIGTERM)
                if not procs.wait_gone(pid, 5.0):
                    procs.signal_group(pid, signal.SIGKILL)
                    procs.wait_gone(pid, 5.0)
        in_use = any(
            procs.is_our_asterisk(pid, owner["conf"]) for pid in procs.processes_in_root(root)
        )
        if not in_use:
            log.info("removing the sandbox folder %s: its data_dir is gone", folder)
            remove_tree(folder)
