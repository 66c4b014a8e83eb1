"""Where a sandbox instance lives, on the host and as Asterisk sees it.

One instance folder holds etc/, run/, log/, spool/, lib/ and cache/. In chroot
mode it sits inside the Debian root (`ROOT/srv/phonebank/<key>`), so Asterisk
sees `/srv/phonebank/<key>`; in system mode it is `data_dir/asterisk/instance`
and both views are the same path. The key derives from data_dir, so a
developer's sandbox and the tests' sandbox can share one root.
"""

from __future__ import annotations

import glob
import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from phonebank.asterisk.render import Directories

SUBDIRS = ("etc", "run", "log", "spool", "lib", "lib/keys", "lib/agi-bin", "cache")
INSTANCES_IN_ROOT = PurePosixPath("/srv/phonebank")

# Where packaged Asterisk keeps modules and data (sounds, keys, documentation):
# Debian/Ubuntu (multiarch), then a source build's defaults, then Red Hat style.
_MODULE_CANDIDATES = (
    "/usr/lib/*-linux-gnu/asterisk/modules",
    "/usr/lib/asterisk/modules",
    "/usr/lib64/asterisk/modules",
    "/usr/local/lib/asterisk/modules",
)
_DATA_CANDIDATES = ("/usr/share/asterisk", "/var/lib/asterisk", "/usr/local/share/asterisk")


@dataclass(frozen=True)
class InstallDirs:
    """Directories of an Asterisk installation, as paths Asterisk sees."""

    modules: str
    data: str
    sbin: str = "/usr/sbin"


@dataclass(frozen=True)
class InstanceLayout:
    key: str
    host_dir: Path
    seen_dir: PurePosixPath

    def host(self, sub: str) -> Path:
        return self.host_dir / sub

    def seen(self, sub: str) -> str:
        return str(self.seen_dir / sub)

    @property
    def conf_seen(self) -> str:
        """asterisk.conf as Asterisk opens it (the -C argument)."""
        return self.seen("etc/asterisk.conf")

    @property
    def messages_log(self) -> Path:
        return self.host("log/messages")

    @property
    def console_log(self) -> Path:
        return self.host("log/console.log")

    def directories(self, install: InstallDirs) -> Directories:
        return Directories(
            etc=self.seen("etc"),
            modules=install.modules,
            data=install.data,
            varlib=self.seen("lib"),
            agi=self.seen("lib/agi-bin"),
            spool=self.seen("spool"),
            run=self.seen("run"),
            log=self.seen("log"),
            cache=self.seen("cache"),
            sbin=install.sbin,
        )

    def create(self) -> None:
        for sub in SUBDIRS:
            self.host(sub).mkdir(parents=True, exist_ok=True)


def instance_key(data_dir: Path) -> str:
    """A short stable name for the sandbox that belongs to data_dir."""
    digest = hashlib.sha256(str(data_dir.expanduser().resolve()).encode()).hexdigest()
    return f"sb-{digest[:12]}"


def chroot_layout(root: Path, data_dir: Path) -> InstanceLayout:
    key = instance_key(data_dir)
    seen = INSTANCES_IN_ROOT / key
    return InstanceLayout(key=key, host_dir=root / seen.relative_to("/"), seen_dir=seen)


def system_layout(data_dir: Path) -> InstanceLayout:
    host = (data_dir / "asterisk" / "instance").expanduser().resolve()
    return InstanceLayout(key=instance_key(data_dir), host_dir=host, seen_dir=PurePosixPath(host))


def parse_directories(text: str) -> dict[str, str]:
    """The `astxxxdir => path` lines of an asterisk.conf's [directories] section."""
    found: dict[str, str] = {}
    in_section = False
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            # Debian ships "[directories](!)": a template marker, same values.
            in_section = line[1:].split("]", 1)[0].strip() == "directories"
            continue
        if in_section:
            key, sep, value = line.partition("=>")
            if not sep:
                key, sep, value = line.partition("=")
            if sep:
                found[key.strip()] = value.strip()
    return found


def discover_install_dirs(root: Path) -> InstallDirs:
    """Find the modules and data folders of the Asterisk installed under root.

    root is "/" for a system Asterisk, or the chroot's root. Asterisk's own
    asterisk.conf is trusted first; otherwise the usual places are probed.
    The returned paths are relative to root (what Asterisk sees).
    """
    declared: dict[str, str] = {}
    conf = root / "etc/asterisk/asterisk.conf"
    if conf.is_file():
        declared = parse_directories(conf.read_text(encoding="utf-8", errors="replace"))

    def inside(path: str) -> Path:
        return root / path.lstrip("/")

    modules = declared.get("astmoddir", "")
    if not modules or not inside(modules).is_dir():
        modules = ""
        for pattern in _MODULE_CANDIDATES:
            hits = sorted(glob.glob(str(inside(pattern))))
            if hits:
                modules = "/" + str(Path(hits[0]).relative_to(root))
                break
    if not modules:
        raise FileNotFoundError(
            f"no Asterisk modules folder found under {root} (looked in "
            f"{', '.join(_MODULE_CANDIDATES)})"
        )
    data = declared.get("astdatadir", "")
    if not data or not inside(data).is_dir():
        data = next((d for d in _DATA_CANDIDATES if inside(d).joinpath("sounds").is_dir()), "")
    if not data:
        raise FileNotFoundError(
            f"no Asterisk data folder with sounds/ found under {root} (looked in "
            f"{', '.join(_DATA_CANDIDATES)})"
        )
    sbin = declared.get("astsbindir", "/usr/sbin")
    return InstallDirs(modules=modules, data=data, sbin=sbin)
