"""The trunk in the rendered configuration: provider credentials, registration, analog lines."""

from __future__ import annotations

import re

import pytest

from phonebank.asterisk.errors import RenderError
from phonebank.asterisk.render import render_text
from phonebank.cli.main import main
from phonebank.hardware.dahdi_config import render_dahdi
from phonebank.hardware.errors import HardwareError
from phonebank.hardware.inventory import default_inventory
from tests.unit.test_asterisk_render import sandbox_context, section

CREDENTIALS = {"carrier_username": "ac-4411", "carrier_secret": "Zq8-trunk-pass"}


def test_an_ip_authenticated_trunk_has_no_auth_and_no_registration() -> None:
    pjsip = render_text(sandbox_context())["pjsip.conf"]
    assert "type = auth" not in pjsip and "type = registration" not in pjsip
    assert "outbound_auth" not in pjsip


def test_credentials_answer_challenges_without_hiding_the_caller_id() -> None:
    pjsip = render_text(sandbox_context(**CREDENTIALS, carrier_domain="sip.example.fr"))[
        "pjsip.conf"
    ]
    auth = section(pjsip, "carrier-auth")
    assert auth["username"] == ["ac-4411"] and auth["password"] == ["Zq8-trunk-pass"]
    assert "type = registration" not in pjsip
    endpoint = "\n".join(pjsip.split("[carrier]")[2:3])
    assert "outbound_auth = carrier-auth" in endpoint
    assert "from_domain = sip.example.fr" in endpoint
    # from_user would overwrite the campaign's caller ID in From:
    assert not re.search(r"^from_user", pjsip, flags=re.M)


def test_registration_to_the_providers_registrar() -> None:
    pjsip = render_text(
        sandbox_context(**CREDENTIALS, carrier_register=True, carrier_host="203.0.113.7")
    )["pjsip.conf"]
    registration = section(pjsip, "carrier-registration")
    assert registration["type"] == ["registration"]
    assert registration["server_uri"] == ["sip:203.0.113.7:15070"]
    assert registration["client_uri"] == ["sip:ac-4411@203.0.113.7"]
    assert registration["outbound_auth"] == ["carrier-auth"]
    assert registration["line"] == ["yes"] and registration["endpoint"] == ["carrier"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"carrier_register": True}, "carrier_register needs"),
        ({"carrier_username": "ac-4411"}, "carrier_secret is empty"),
        ({"carrier_username": "ac 4411", "carrier_secret": "x"}, "carrier_username may not"),
        ({"carrier_username": "a", "carrier_secret": "pa;ss"}, "carrier_secret may not"),
        ({"trunk": "analog"}, "needs the FXO ports"),
        ({"trunk": "analog", "dahdi_fxo_ports": (3, 3)}, "lists a port twice"),
        ({"dahdi_fxs_ports": 4, "dahdi_fxo_ports": (4,)}, "both a station"),
        ({"dahdi_fxo_ports": (0,)}, "not a DAHDI channel"),
    ],
)
def test_trunk_settings_that_cannot_work_are_refused(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        sandbox_context(**changes)


def test_the_dialplan_dials_the_configured_trunk() -> None:
    sip = render_text(sandbox_context())["extensions.conf"]
    assert re.search(r"^PHONEBANK_TRUNK = carrier$", sip, flags=re.M)
    analog = render_text(sandbox_context(trunk="analog", dahdi_fxo_ports=(17, 18)))
    assert re.search(r"^PHONEBANK_TRUNK = analog$", analog["extensions.conf"], flags=re.M)
    assert "DAHDI/g2/" in analog["extensions.conf"]
    chan = analog["chan_dahdi.conf"]
    lines = chan.split("trunk line on FXO port")[1:]
    assert [re.search(r"channel => (\d+)", block).group(1) for block in lines] == ["17", "18"]  # type: ignore[union-attr]
    for block in lines:
        assert "signalling = fxs_ks" in block and "context = phonebank-inbound" in block
        assert "group = 2" in block


def test_dahdi_config_puts_lines_on_fxo_ports_apart_from_the_stations() -> None:
    files = render_dahdi(default_inventory(16), fxo_ports=[17, 18])
    lines = [x for x in files.system_conf.splitlines() if x and not x.startswith("#")]
    assert "fxoks = 1-16" in lines and "fxsks = 17-18" in lines
    assert "echocanceller = oslec,17-18" in lines
    assert files.chan_dahdi_conf.count("signalling = fxs_ks") == 2
    with pytest.raises(HardwareError, match="both stations"):
        render_dahdi(default_inventory(4), fxo_ports=[4, 5])


def test_cli_takes_fxo_ports(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware", "dahdi-config", "--ports", "2", "--fxo-ports", "3,4"]) == 0
    assert "fxsks = 3-4" in capsys.readouterr().out
    assert main(["hardware", "dahdi-config", "--ports", "2", "--fxo-ports", "x"]) != 0
    assert "--fxo-ports" in capsys.readouterr().err
