"""Sandbox plumbing without Asterisk: command lines, layout, state file, /proc parsing."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from phonebank.asterisk import procs
from phonebank.asterisk.commands import (
    CHROOT_ENV,
    Launcher,
    apt_dahdi_argv,
    debootstrap_argv,
    parse_version,
)
from phonebank.asterisk.errors import SandboxError
from phonebank.asterisk.layout import (
    chroot_layout,
    discover_install_dirs,
    instance_key,
    parse_directories,
    system_layout,
)
from phonebank.asterisk.sandbox import read_sandbox_secret, resolve_mode
from phonebank.asterisk.state import SandboxState, ami_credentials, load_state, save_state
from phonebank.config import Config, PathsConfig

ROOT = Path("/cache/asterisk-root")
CONF = "/srv/phonebank/sb-0123/etc/asterisk.conf"


def test_chroot_daemon_runs_as_the_roots_asterisk_user_in_the_foreground() -> None:
    launcher = Launcher("chroot", "/usr/sbin/asterisk", CONF, ROOT)
    assert launcher.daemon_argv() == [
        "chroot",
        str(ROOT),
        "/usr/sbin/asterisk",
        "-f",
        "-U",
        "asterisk",
        "-G",
        "asterisk",
        "-C",
        CONF,
    ]
    assert launcher.remote_argv("core show version") == [
        "chroot",
        str(ROOT),
        "/usr/sbin/asterisk",
        "-C",
        CONF,
        "-rx",
        "core show version",
    ]
    assert launcher.chown_argv("/srv/phonebank/sb-0123") == [
        "chroot",
        str(ROOT),
        "chown",
        "-R",
        "asterisk:asterisk",
        "/srv/phonebank/sb-0123",
    ]
    assert launcher.environment({"PATH": "/host/bin", "SECRET": "x"}) == CHROOT_ENV


def test_system_daemon_keeps_the_callers_user_and_no_chroot() -> None:
    conf = "/home/v/.local/share/phonebank/asterisk/instance/etc/asterisk.conf"
    launcher = Launcher("system", "/usr/sbin/asterisk", conf)
    assert launcher.daemon_argv() == ["/usr/sbin/asterisk", "-f", "-C", conf]
    assert launcher.remote_argv("core stop now") == [
        "/usr/sbin/asterisk",
        "-C",
        conf,
        "-rx",
        "core stop now",
    ]
    assert launcher.chown_argv("/x") is None
    env = launcher.environment({"PATH": "/usr/bin", "HOME": "/home/v", "AWS_SECRET": "x"})
    assert env == {"PATH": "/usr/bin", "HOME": "/home/v"}


def test_a_chroot_launcher_needs_its_root() -> None:
    with pytest.raises(ValueError, match="root"):
        Launcher("chroot", "/usr/sbin/asterisk", CONF).daemon_argv()


def test_root_recipe_leaves_asterisk_dahdi_to_apt() -> None:
    argv = debootstrap_argv("sid", ROOT, "http://deb.debian.org/debian")
    assert argv[:2] == ["debootstrap", "--variant=minbase"]
    include = argv[2].removeprefix("--include=").split(",")
    assert "asterisk" in include and "asterisk-modules" in include
    assert "asterisk-dahdi" not in include
    assert argv[-3:] == ["sid", str(ROOT), "http://deb.debian.org/debian"]
    assert apt_dahdi_argv(ROOT)[-2:] == ["asterisk-dahdi", "dahdi-source"]


def test_parse_version() -> None:
    text = "Asterisk 22.10.1+dfsg+~cs6.17.60671434-1 built by nobody @ buildd on a unknown\n"
    assert parse_version(text) == ("22.10.1+dfsg+~cs6.17.60671434-1", 22)
    assert parse_version("Asterisk 20.5.0\n")[1] == 20
    with pytest.raises(ValueError):
        parse_version("Unable to connect to remote asterisk")


@pytest.mark.parametrize(
    ("wanted", "which", "expected"),
    [
        ("auto", "/usr/sbin/asterisk", "system"),
        ("auto", None, "chroot"),
        ("chroot", "/usr/sbin/asterisk", "chroot"),
        ("system", "/usr/sbin/asterisk", "system"),
    ],
)
def test_resolve_mode(wanted: str, which: str | None, expected: str) -> None:
    assert resolve_mode(wanted, which) == expected


def test_system_mode_without_asterisk_is_a_clear_error() -> None:
    with pytest.raises(SandboxError, match="PATH"):
        resolve_mode("system", None)


def test_two_data_dirs_get_two_instances_in_one_root(tmp_path: Path) -> None:
    dev = chroot_layout(ROOT, tmp_path / "dev")
    tests = chroot_layout(ROOT, tmp_path / "tests")
    assert dev.key != tests.key
    assert dev.key == instance_key(tmp_path / "dev")
    assert dev.seen_dir == PurePosixPath("/srv/phonebank") / dev.key
    assert dev.host_dir == ROOT / "srv/phonebank" / dev.key
    assert dev.conf_seen == f"/srv/phonebank/{dev.key}/etc/asterisk.conf"


def test_system_layout_is_the_same_path_on_both_sides(tmp_path: Path) -> None:
    layout = system_layout(tmp_path)
    assert str(layout.host_dir) == str(layout.seen_dir)
    assert layout.host_dir == tmp_path.resolve() / "asterisk" / "instance"
    layout.create()
    assert (layout.host_dir / "lib/keys").is_dir() and (layout.host_dir / "log").is_dir()


def test_parse_directories_reads_debians_template_section() -> None:
    text = (
        "[directories](!)\nastmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules\n"
        "astdatadir => /usr/share/asterisk ; data\n[options]\nverbose = 3\n"
    )
    assert parse_directories(text) == {
        "astmoddir": "/usr/lib/x86_64-linux-gnu/asterisk/modules",
        "astdatadir": "/usr/share/asterisk",
    }


def test_discover_install_dirs_in_a_debian_like_tree(tmp_path: Path) -> None:
    (tmp_path / "usr/lib/x86_64-linux-gnu/asterisk/modules").mkdir(parents=True)
    (tmp_path / "usr/share/asterisk/sounds").mkdir(parents=True)
    found = discover_install_dirs(tmp_path)
    assert found.modules == "/usr/lib/x86_64-linux-gnu/asterisk/modules"
    assert found.data == "/usr/share/asterisk"


def test_discover_install_dirs_trusts_asterisk_conf(tmp_path: Path) -> None:
    (tmp_path / "opt/ast/mods").mkdir(parents=True)
    (tmp_path / "opt/ast/data/sounds").mkdir(parents=True)
    (tmp_path / "etc/asterisk").mkdir(parents=True)
    (tmp_path / "etc/asterisk/asterisk.conf").write_text(
        "[directories]\nastmoddir => /opt/ast/mods\nastdatadir => /opt/ast/data\n"
    )
    found = discover_install_dirs(tmp_path)
    assert (found.modules, found.data) == ("/opt/ast/mods", "/opt/ast/data")


def test_discover_install_dirs_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="modules"):
        discover_install_dirs(tmp_path)


def _config(tmp_path: Path, **asterisk: object) -> Config:
    base = Config()
    return dataclasses.replace(
        base,
        paths=PathsConfig(data_dir=tmp_path, cache_dir=tmp_path / "cache"),
        asterisk=dataclasses.replace(base.asterisk, **asterisk),  # type: ignore[arg-type]
    )


def test_state_file_is_private_and_round_trips(tmp_path: Path) -> None:
    config = _config(tmp_path)
    state = SandboxState(ami_username="phonebank", ami_secret="generated-secret-123", pid=42)
    path = save_state(config, state)
    assert path == tmp_path / "asterisk" / "sandbox.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_state(config) == state
    assert ami_credentials(config) == ("phonebank", "generated-secret-123")
    assert read_sandbox_secret(config) == "generated-secret-123"
    assert read_sandbox_secret(_config(tmp_path / "none")) is None


def test_configured_secret_wins_and_missing_one_is_explained(tmp_path: Path) -> None:
    assert ami_credentials(_config(tmp_path, ami_secret="from-config-123456")) == (
        "phonebank",
        "from-config-123456",
    )
    with pytest.raises(SandboxError, match="sandbox start"):
        ami_credentials(_config(tmp_path / "empty"))


def test_a_damaged_state_file_is_reported(tmp_path: Path) -> None:
    config = _config(tmp_path)
    (tmp_path / "asterisk").mkdir()
    (tmp_path / "asterisk/sandbox.json").write_text("{not json")
    with pytest.raises(SandboxError, match=r"sandbox\.json"):
        load_state(config)


def test_pid_checks_tell_a_live_process_from_a_gone_one(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", CONF])
    try:
        assert procs.pid_alive(child.pid)
        # Not an asterisk: a reused pid must not be taken for the sandbox.
        assert not procs.is_our_asterisk(child.pid, CONF)
    finally:
        child.kill()
        child.wait()
    assert not procs.pid_alive(child.pid)
    assert not procs.wait_gone(os.getpid(), 0.2)


def test_spawned_daemon_gets_its_own_session_and_log(tmp_path: Path) -> None:
    log = tmp_path / "log" / "console.log"
    pid = procs.spawn_daemon([sys.executable, "-c", "print('hello')"], dict(os.environ), log)
    assert procs.wait_gone(pid, 10)
    assert log.read_text() == "hello\n"


def test_mounts_under_finds_proc_and_nothing_in_a_fresh_dir(tmp_path: Path) -> None:
    assert procs.mounts_under(tmp_path) == []
    assert Path("/proc") in procs.mounts_under(Path("/proc"))


def test_file_lock_is_reentrant_across_uses(tmp_path: Path) -> None:
    for _ in range(2):
        with procs.file_lock(tmp_path / "x.lock"):
            assert (tmp_path / "x.lock").exists()
