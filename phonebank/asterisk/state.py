"""The sandbox's state file: `data_dir/asterisk/sandbox.json` (mode 0600).

It keeps the generated AMI secret across restarts, and the pid, ports and
folders of the running Asterisk so that `stop` and `status` work from any
process. The AMI client reads the secret from here when `[asterisk] ami_secret`
is empty.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from phonebank.asterisk.errors import SandboxError
from phonebank.config import Config


@dataclass(frozen=True)
class SandboxState:
    ami_username: str
    ami_secret: str
    mode: str = ""
    pid: int | None = None
    ami_host: str = ""
    ami_port: int = 0
    sip_port: int = 0
    instance_dir: str = ""
    # The -C argument Asterisk was started with: identifies its process.
    conf: str = ""
    root: str = ""
    started_at: str = ""
    version: str = ""


def state_dir(config: Config) -> Path:
    return config.paths.data_dir.expanduser() / "asterisk"


def state_path(config: Config) -> Path:
    return state_dir(config) / "sandbox.json"


def load_state(config: Config) -> SandboxState | None:
    path = state_path(config)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SandboxError(f"cannot read the sandbox state {path}: {exc}") from None
    known = {f.name for f in dataclasses.fields(SandboxState)}
    try:
        return SandboxState(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:
        raise SandboxError(f"the sandbox state {path} is damaged ({exc}); delete it") from None


def save_state(config: Config, state: SandboxState) -> Path:
    path = state_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dataclasses.asdict(state), handle, indent=2, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def ami_credentials(config: Config) -> tuple[str, str]:
    """(username, secret) for the AMI: from the config, else the sandbox's state."""
    if config.asterisk.ami_secret:
        return config.asterisk.ami_username, config.asterisk.ami_secret
    state = load_state(config)
    if state is None or not state.ami_secret:
        raise SandboxError(
            f"no AMI secret: set [asterisk] ami_secret, or start the sandbox once "
            f"(phonebank asterisk sandbox start) to generate one in {state_path(config)}"
        )
    return state.ami_username, state.ami_secret
