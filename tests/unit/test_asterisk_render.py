"""Rendered Asterisk configuration: what the files say, and what is refused."""

from __future__ import annotations

import dataclasses
import re
import stat
from pathlib import Path

import pytest

from phonebank.asterisk.errors import RenderError
from phonebank.asterisk.layout import InstallDirs, chroot_layout
from phonebank.asterisk.render import (
    AMI_READ,
    AMI_WRITE,
    RenderContext,
    build_context,
    render_config,
    render_text,
    stations_for_ports,
    template_names,
)
from phonebank.cli.main import main
from phonebank.config import AsteriskConfig
from phonebank.resources import resource_dir

SECRET = "s3cr3t-Token_abcdefgh"
INSTALL = InstallDirs(
    modules="/usr/lib/x86_64-linux-gnu/asterisk/modules", data="/usr/share/asterisk"
)
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - what the AMI must never bind; production SIP may


def sandbox_context(**changes: object) -> RenderContext:
    config = dataclasses.replace(AsteriskConfig(), **changes)  # type: ignore[arg-type]
    layout = chroot_layout(Path("/cache/asterisk-root"), Path("/data"))
    return build_context(
        config, flavour="sandbox", ami_secret=SECRET, directories=layout.directories(INSTALL)
    )


def section(text: str, name: str) -> dict[str, list[str]]:
    """key -> values of one [section] of an Asterisk config file."""
    values: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            current = line[1:].split("]", 1)[0]
            continue
        if current == name and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.lstrip(">").strip())
    return values


def test_every_template_renders_without_undefined_values() -> None:
    texts = render_text(sandbox_context())
    assert set(texts) == {name.removesuffix(".j2") for name in template_names()}
    for name in (
        "asterisk.conf",
        "modules.conf",
        "manager.conf",
        "pjsip.conf",
        "extensions.conf",
        "chan_dahdi.conf",
        "logger.conf",
        "rtp.conf",
    ):
        assert texts[name].strip(), name


def test_manager_listens_on_loopback_only_with_the_given_secret() -> None:
    general = section(render_text(sandbox_context(ami_port=25038))["manager.conf"], "general")
    assert general["enabled"] == ["yes"]
    assert general["bindaddr"] == ["127.0.0.1"]
    assert general["port"] == ["25038"]
    assert general["webenabled"] == ["no"]
    user = section(render_text(sandbox_context())["manager.conf"], "phonebank")
    assert user["secret"] == [SECRET]
    assert user["deny"] == ["0.0.0.0/0.0.0.0"]
    assert user["permit"] == ["127.0.0.1/255.255.255.255"]
    assert user["read"] == [",".join(AMI_READ)]
    assert user["write"] == [",".join(AMI_WRITE)]


def test_the_dialer_gets_no_console_or_config_rights() -> None:
    user = section(render_text(sandbox_context())["manager.conf"], "phonebank")
    rights = set(user["read"][0].split(",")) | set(user["write"][0].split(","))
    assert {"originate", "call", "agent"} <= rights
    assert not rights & {"command", "config", "all"}


@pytest.mark.parametrize("host", [ANY_ADDRESS, "192.168.1.10", "::1", "localhost"])
def test_the_ami_may_not_face_a_network(host: str) -> None:
    with pytest.raises(RenderError, match="ami_host"):
        sandbox_context(ami_host=host)


@pytest.mark.parametrize("secret", ["", "short", "has space in it 123", "semi;colon-secret-xyz"])
def test_no_empty_weak_or_unparseable_secret(secret: str) -> None:
    with pytest.raises(RenderError, match="secret"):
        build_context(AsteriskConfig(), flavour="sandbox", ami_secret=secret, directories=None)


def test_no_default_secret_in_templates() -> None:
    # The secret only ever comes from the context; the templates hold none.
    for name in template_names():
        text = (resource_dir("asterisk-config") / name).read_text()
        for line in text.splitlines():
            if line.strip().startswith("secret"):
                assert "{{ ami.secret }}" in line


def test_directories_point_into_the_instance() -> None:
    directories = section(render_text(sandbox_context())["asterisk.conf"], "directories")
    for key in ("astetcdir", "astrundir", "astlogdir", "astspooldir", "astvarlibdir"):
        (value,) = directories[key]
        assert value.startswith("/srv/phonebank/sb-"), key
    assert directories["astmoddir"] == [INSTALL.modules]
    assert directories["astdatadir"] == [INSTALL.data]


def test_pjsip_binds_loopback_and_carrier_points_at_the_carrier_port() -> None:
    text = render_text(sandbox_context(sip_port=25060, carrier_port=25070))["pjsip.conf"]
    assert section(text, "transport-udp")["bind"] == ["127.0.0.1:25060"]
    carrier = section(text, "carrier")
    assert carrier["contact"] == ["sip:127.0.0.1:25070"]
    assert carrier["match"] == ["127.0.0.1"]


def test_sandbox_sip_stays_on_loopback_even_if_production_host_is_set() -> None:
    text = render_text(sandbox_context(sip_host=ANY_ADDRESS))["pjsip.conf"]
    assert section(text, "transport-udp")["bind"] == ["127.0.0.1:15060"]


def test_rtp_range_and_sip_port_outside_it() -> None:
    text = render_text(sandbox_context(rtp_start=21000, rtp_end=21999))["rtp.conf"]
    assert section(text, "general")["rtpstart"] == ["21000"]
    assert section(text, "general")["rtpend"] == ["21999"]
    with pytest.raises(RenderError, match="RTP"):
        sandbox_context(rtp_start=15000, rtp_end=16000)


def test_chan_dahdi_has_one_hotline_fxs_channel_per_station() -> None:
    text = render_text(sandbox_context(dahdi_fxs_ports=16))["chan_dahdi.conf"]
    channels = re.findall(r"^channel => (\d+)$", text, flags=re.M)
    assert channels == [str(n) for n in range(1, 17)]
    assert len(re.findall(r"^signalling = fxo_ks$", text, flags=re.M)) == 16
    assert len(re.findall(r"^immediate = yes$", text, flags=re.M)) == 16
    assert len(re.findall(r"^context = phonebank-stations$", text, flags=re.M)) == 16
    assert "ignore_failed_channels = yes" in text


def test_no_stations_no_channels() -> None:
    text = render_text(sandbox_context())["chan_dahdi.conf"]
    assert "channel =>" not in text
    assert stations_for_ports(0) == ()
    with pytest.raises(RenderError):
        stations_for_ports(-1)


def test_dialplan_has_the_test_and_sim_pstn_contexts() -> None:
    text = render_text(sandbox_context(agi_port=24573))["extensions.conf"]
    for context in ("phonebank-test", "sim-pstn", "phonebank-stations", "phonebank-inbound"):
        assert f"[{context}]" in text
    assert "exten => echo,1,Answer()" in text
    assert "exten => hold,1,Answer()" in text
    assert "PHONEBANK_AGI_URL = agi://127.0.0.1:24573" in text


def test_sandbox_files_written_with_manager_private(tmp_path: Path) -> None:
    written = render_config(sandbox_context(), tmp_path)
    names = {p.name for p in written}
    assert {"manager.conf", "asterisk.conf", "chan_dahdi.conf"} <= names
    assert stat.S_IMODE((tmp_path / "manager.conf").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "extensions.conf").stat().st_mode) == 0o644
    assert not list(tmp_path.glob(".*.tmp"))


def test_production_render_uses_standard_dirs_and_configured_hosts() -> None:
    config = dataclasses.replace(
        AsteriskConfig(),
        sip_host=ANY_ADDRESS,
        sip_port=5060,
        carrier_host="sip.example.net",
        carrier_port=5060,
        dahdi_fxs_ports=24,
    )
    texts = render_text(
        build_context(config, flavour="production", ami_secret=SECRET, directories=None)
    )
    assert "[directories]" not in texts["asterisk.conf"]
    assert section(texts["pjsip.conf"], "transport-udp")["bind"] == [f"{ANY_ADDRESS}:5060"]
    assert section(texts["pjsip.conf"], "carrier")["contact"] == ["sip:sip.example.net:5060"]
    assert section(texts["manager.conf"], "general")["bindaddr"] == ["127.0.0.1"]
    assert texts["chan_dahdi.conf"].count("channel =>") == 24


def test_production_render_command_generates_and_prints_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PHONEBANK_ASTERISK_AMI_SECRET", raising=False)
    monkeypatch.delenv("PHONEBANK_CONFIG", raising=False)
    assert main(["asterisk", "render", "--out", str(tmp_path / "etc")]) == 0
    out = capsys.readouterr().out
    (secret,) = section((tmp_path / "etc/manager.conf").read_text(), "phonebank")["secret"]
    assert len(secret) >= 24
    assert f'ami_secret = "{secret}"' in out
    # A second render makes a different secret: there is no built-in default.
    assert main(["asterisk", "render", "--out", str(tmp_path / "etc2")]) == 0
    (other,) = section((tmp_path / "etc2/manager.conf").read_text(), "phonebank")["secret"]
    assert other != secret


def test_production_render_command_uses_the_configured_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHONEBANK_ASTERISK_AMI_SECRET", SECRET)
    monkeypatch.delenv("PHONEBANK_CONFIG", raising=False)
    assert main(["asterisk", "render", "--out", str(tmp_path)]) == 0
    assert SECRET not in capsys.readouterr().out
    assert section((tmp_path / "manager.conf").read_text(), "phonebank")["secret"] == [SECRET]
