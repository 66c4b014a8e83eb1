"""Every command and subcommand of `phonebank` explains itself with --help."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from phonebank.cli.main import build_parser, main


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _commands(sub, (*prefix, name))


COMMANDS = sorted(_commands(build_parser()))


def test_the_expected_commands_exist() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for expected in (
        "up",
        "db upgrade",
        "db downgrade",
        "user add",
        "asterisk sandbox start",
        "asterisk sandbox stop",
        "asterisk sandbox status",
        "asterisk sandbox prepare",
        "asterisk cli",
        "asterisk render",
        "config",
    ):
        assert expected in names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: phonebank " + " ".join(command))
    # A description, not just the usage line.
    assert len(out.splitlines()) > 3


def test_bad_config_file_is_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[web]\nport = 'x'\n")
    assert main(["--config", str(path), "config"]) == 2
    assert "web.port: expected a whole number" in capsys.readouterr().err


def test_config_command_masks_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHONEBANK_ASTERISK_AMI_SECRET", "very-secret-value")
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    assert "very-secret-value" not in out
    assert '"ami_secret": "********"' in out
