from __future__ import annotations

from pathlib import Path

import pytest

from phonebank.config import ConfigError, describe, load_config


def test_defaults_use_embedded_sqlite_in_data_dir(tmp_path: Path) -> None:
    config = load_config(environ={"XDG_DATA_HOME": str(tmp_path)})
    assert config.web.port == 8080
    assert config.asterisk.ami_port == 15038
    assert config.database_url == f"sqlite:///{tmp_path / 'phonebank' / 'phonebank.db'}"


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.toml"
    path.write_text('[web]\nport = 9000\nhost = "0.0.0.0"\n[database]\nurl = "sqlite:///x.db"\n')
    config = load_config(path, environ={"PHONEBANK_WEB_PORT": "9100"})
    assert config.web.port == 9100  # environment wins over the file
    assert config.web.host == "0.0.0.0"  # noqa: S104  # the file wins over the default
    assert config.database.url == "sqlite:///x.db"


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[asterisk]\nami_port = 16000\n")
    config = load_config(environ={"PHONEBANK_CONFIG": str(path)})
    assert config.asterisk.ami_port == 16000


def test_env_names_section_and_key() -> None:
    config = load_config(
        environ={
            "PHONEBANK_DATABASE_URL": "postgresql://u@h/db",
            "PHONEBANK_ASTERISK_AMI_PORT": "17038",
            "PHONEBANK_ASTERISK_MODE": "chroot",
            "PHONEBANK_DATABASE_ECHO": "yes",
            "PHONEBANK_TEST_DATABASE_URL": "ignored: not a setting section",
        }
    )
    assert config.database_url == "postgresql://u@h/db"
    assert config.asterisk.ami_port == 17038
    assert config.asterisk.mode == "chroot"
    assert config.database.echo is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[web]\nport = 'eighty'\n", "web.port: expected a whole number"),
        ("[web]\nprot = 80\n", "unknown setting web.prot"),
        ("[webb]\nport = 80\n", "unknown section [webb]"),
        ("[asterisk]\nmode = 'docker'\n", "expected one of auto, system, chroot"),
        ("[web\n", "not valid TOML"),
    ],
)
def test_bad_file_says_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_bad_environment_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"environment: web.port"):
        load_config(environ={"PHONEBANK_WEB_PORT": "x"})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_describe_masks_secrets() -> None:
    config = load_config(environ={"PHONEBANK_ASTERISK_AMI_SECRET": "s3cret"})
    shown = describe(config)
    assert shown["asterisk"]["ami_secret"] == "********"
    assert "s3cret" not in repr(shown)


def test_lists_from_toml_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[web]\nmetrics_allow = ["10.0.0.0/8", "127.0.0.1/32"]\n')
    assert load_config(path, environ={}).web.metrics_allow == ("10.0.0.0/8", "127.0.0.1/32")
    env = {"PHONEBANK_WEB_METRICS_ALLOW": "192.168.1.0/24, ::1/128,"}
    assert load_config(environ=env).web.metrics_allow == ("192.168.1.0/24", "::1/128")
    with pytest.raises(ConfigError, match=r"web\.metrics_allow: expected a list"):
        bad = tmp_path / "bad.toml"
        bad.write_text("[web]\nmetrics_allow = 3\n")
        load_config(bad, environ={})
