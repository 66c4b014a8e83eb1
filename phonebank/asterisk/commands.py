"""Command lines that run Asterisk, in the chroot or on the system (pure).

Kept apart from the code that runs them so that unit tests can check them
without an Asterisk on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Mode = Literal["chroot", "system"]

# The chroot's own binaries are found with a PATH of the root, not the host's.
CHROOT_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}
CHROOT_ASTERISK = "/usr/sbin/asterisk"
# Debian's package creates this user inside the root; uids differ from the host's.
CHROOT_USER = "asterisk"


@dataclass(frozen=True)
class Launcher:
    """How to run `asterisk` for one sandbox instance."""

    mode: Mode
    # chroot: the binary's path inside the root; system: its path on the host.
    asterisk: str
    conf: str
    root: Path | None = None

    def _prefix(self) -> list[str]:
        if self.mode == "chroot":
            if self.root is None:
                raise ValueError("a chroot launcher needs the root folder")
            return ["chroot", str(self.root)]
        return []

    def daemon_argv(self) -> list[str]:
        """Asterisk in the foreground (-f) of its own session, logging to files.

        In the chroot it drops to the root's `asterisk` user; on the system it
        keeps the caller's user (a sandbox, not a service).
        """
        argv = [*self._prefix(), self.asterisk, "-f"]
        if self.mode == "chroot":
            argv += ["-U", CHROOT_USER, "-G", CHROOT_USER]
        return [*argv, "-C", self.conf]

    def remote_argv(self, command: str) -> list[str]:
        """`asterisk -rx COMMAND` against this instance's control socket."""
        return [*self._prefix(), self.asterisk, "-C", self.conf, "-rx", command]

    def in_root_argv(self, *argv: str) -> list[str]:
        """Any command inside the root (chroot mode) or on the host (system mode)."""
        return [*self._prefix(), *argv]

    def chown_argv(self, seen_path: str) -> list[str] | None:
        """Give the instance folder to the root's asterisk user (chroot only)."""
        if self.mode != "chroot":
            return None
        return self.in_root_argv("chown", "-R", f"{CHROOT_USER}:{CHROOT_USER}", seen_path)

    def environment(self, host_env: dict[str, str]) -> dict[str, str]:
        if self.mode == "chroot":
            return dict(CHROOT_ENV)
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "USER", "LOGNAME")
        env = {k: host_env[k] for k in keep if k in host_env}
        env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        return env


def debootstrap_argv(suite: str, target: Path, mirror: str) -> list[str]:
    """Debian sid with Asterisk, without asterisk-dahdi (added afterwards by apt).

    debootstrap resolves "dahdi-dkms | dahdi-source" (needed by asterisk-dahdi)
    to dahdi-dkms, which cannot build a kernel module in a chroot, and its
    --exclude does not stop that; apt inside the root picks dahdi-source when
    it is named.
    """
    return [
        "debootstrap",
        "--variant=minbase",
        "--include=asterisk,asterisk-modules,asterisk-core-sounds-en-gsm,"
        "asterisk-core-sounds-fr-gsm",
        suite,
        str(target),
        mirror,
    ]


def apt_dahdi_argv(root: Path) -> list[str]:
    return [
        "chroot",
        str(root),
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        "asterisk-dahdi",
        "dahdi-source",
    ]


def parse_version(text: str) -> tuple[str, int]:
    """("22.10.1+dfsg...", 22) from `core show version` or `asterisk -V` output."""
    for line in text.splitlines():
        words = line.strip().split()
        if len(words) >= 2 and words[0] == "Asterisk":
            version = words[1].rstrip(",")
            major = version.split(".", 1)[0]
            if major.isdigit():
                return version, int(major)
    raise ValueError(f"no Asterisk version in {text[:200]!r}")
