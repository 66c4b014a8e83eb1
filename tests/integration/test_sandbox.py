"""The real sandbox Asterisk: start, what it loads and listens on, and a clean stop."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

from phonebank.asterisk import procs
from phonebank.asterisk.commands import parse_version
from phonebank.asterisk.errors import SandboxError
from phonebank.asterisk.sandbox import Sandbox
from phonebank.asterisk.state import load_state
from phonebank.config import Config
from tests.fixtures.asterisk import (
    TEST_FXO_PORTS,
    TEST_FXS_PORTS,
    RunningSandbox,
    extra_sandbox_config,
)

pytestmark = pytest.mark.asterisk

# What chan_dahdi logs for each configured port when there is no DAHDI card or
# kernel module: expected here. Anything else it logs at WARNING/ERROR would be
# a problem of the rendered chan_dahdi.conf.
_NO_HARDWARE = re.compile(
    r"Unable to open '/dev/dahdi/channel'|Unable to open channel \d+|"
    r"Unable to register channel '\d+'|Channel '\d+' failure ignored"
)


def test_version_is_asterisk_20_or_newer(asterisk_sandbox: RunningSandbox) -> None:
    version, major = parse_version(asterisk_sandbox.cli("core show version"))
    assert major >= 20
    assert asterisk_sandbox.info.version == version


def test_status_reports_what_runs_where(asterisk_sandbox: RunningSandbox) -> None:
    status = asterisk_sandbox.sandbox.status()
    assert status.running and status.info is not None
    assert status.info.pid == asterisk_sandbox.sandbox.status().info.pid  # type: ignore[union-attr]
    assert status.info.ami_port == asterisk_sandbox.info.ami_port
    assert status.info.mode in ("chroot", "system")
    assert procs.pid_alive(status.info.pid)


def test_starting_again_reports_the_running_one(asterisk_sandbox: RunningSandbox) -> None:
    again = asterisk_sandbox.sandbox.start()
    assert again.already_running
    assert again.pid == asterisk_sandbox.sandbox.status().info.pid  # type: ignore[union-attr]
    assert again.ami_secret == asterisk_sandbox.info.ami_secret


def test_ami_listens_on_loopback_and_greets(asterisk_sandbox: RunningSandbox) -> None:
    info = asterisk_sandbox.info
    assert info.ami_host == "127.0.0.1"
    with socket.create_connection((info.ami_host, info.ami_port), timeout=5) as sock:
        greeting = sock.recv(100).decode()
    assert greeting.startswith("Asterisk Call Manager/")


def test_pjsip_transport_on_the_configured_port(asterisk_sandbox: RunningSandbox) -> None:
    out = asterisk_sandbox.cli("pjsip show transports")
    assert f"127.0.0.1:{asterisk_sandbox.info.sip_port}" in out


def test_dialplan_contexts_are_loaded(asterisk_sandbox: RunningSandbox) -> None:
    out = asterisk_sandbox.cli("dialplan show echo@phonebank-test")
    assert "Answer()" in out
    assert "sim-pstn" in asterisk_sandbox.cli("dialplan show sim-pstn")


def test_chan_dahdi_loads_the_rendered_file_without_complaints(
    asterisk_sandbox: RunningSandbox,
) -> None:
    modules = asterisk_sandbox.cli("module show like chan_dahdi")
    assert re.search(r"chan_dahdi\.so .* Running", modules)
    log = (asterisk_sandbox.info.instance_dir / "log" / "messages").read_text()
    # The file was read: each configured port was tried.
    tried = re.findall(r"Channel '\d+' failure ignored", log)
    assert len(tried) == TEST_FXS_PORTS + len(TEST_FXO_PORTS)
    problems = [
        line
        for line in log.splitlines()
        if "chan_dahdi" in line
        and re.search(r"\b(WARNING|ERROR)\[", line)
        and not _NO_HARDWARE.search(line)
    ]
    assert problems == []


def test_the_log_has_no_errors_besides_missing_dahdi_hardware(
    asterisk_sandbox: RunningSandbox,
) -> None:
    log = (asterisk_sandbox.info.instance_dir / "log" / "messages").read_text()
    problems = [
        line
        for line in log.splitlines()
        if re.search(r"\bERROR\[", line) and not _NO_HARDWARE.search(line)
    ]
    assert problems == []


# The RTP range of this file's second sandboxes, apart from the session's.
OWN_RTP = (22000, 22999)


def test_a_start_that_times_out_says_why_and_leaves_nothing(
    asterisk_config: Config, tmp_path: Path
) -> None:
    config = extra_sandbox_config(asterisk_config, tmp_path, OWN_RTP)
    sandbox = Sandbox(config)
    try:
        with pytest.raises(SandboxError, match=r"did not become ready within 0 s") as caught:
            sandbox.start(timeout=0.01)
        assert "Last lines of" in str(caught.value)
        assert not sandbox.status().running
        state = load_state(config)
        assert state is not None and state.pid is None
    finally:
        sandbox.remove()


def test_stop_leaves_no_process_and_no_mount(asterisk_config: Config, tmp_path: Path) -> None:
    config = extra_sandbox_config(asterisk_config, tmp_path, OWN_RTP)
    sandbox = Sandbox(config)
    try:
        info = sandbox.start()
        assert not info.already_running
        state = load_state(config)
        assert state is not None and state.pid == info.pid
        assert sandbox.stop() is True
        assert not procs.pid_alive(info.pid)
        assert not sandbox.status().running
        state = load_state(config)
        assert state is not None and state.pid is None
        # The secret survives a stop, for the next start.
        assert state.ami_secret == info.ami_secret
        if state.root:
            root = Path(state.root)
            others = procs.processes_in_root(root)
            # The session's sandbox may still use /proc in the root; when nothing
            # runs there any more, nothing may stay mounted.
            assert others or procs.mounts_under(root) == []
            assert all(procs.pid_alive(pid) for pid in others)
        assert sandbox.stop() is False
    finally:
        sandbox.remove()
    assert not Path(info.instance_dir).exists()


def test_restart_gives_a_new_process_with_the_same_secret(
    asterisk_sandbox: RunningSandbox,
) -> None:
    before = asterisk_sandbox.info
    after = asterisk_sandbox.restart()
    assert after.pid != before.pid
    assert after.ami_secret == before.ami_secret
    assert "Asterisk" in asterisk_sandbox.cli("core show version")


def test_an_orphaned_sandbox_is_stopped_by_the_next_start(
    asterisk_config: Config, tmp_path: Path
) -> None:
    """A test run killed before its teardown loses its data_dir, not its Asterisk."""
    orphan_dir = tmp_path / "orphan"
    orphan = Sandbox(extra_sandbox_config(asterisk_config, orphan_dir, OWN_RTP))
    info = orphan.start()
    if info.mode != "chroot":
        pytest.fail("this machine runs the chrooted sandbox; the test expects it")
    shutil.rmtree(orphan_dir)  # the run's data_dir, state file and all, vanish
    assert procs.pid_alive(info.pid)

    other = Sandbox(extra_sandbox_config(asterisk_config, tmp_path / "next", OWN_RTP))
    try:
        other.start()
        assert procs.wait_gone(info.pid, 10.0), "the orphan's Asterisk still runs"
        assert not Path(info.instance_dir).exists()
    finally:
        other.remove()
