"""The key that signs session cookies: from the config, or generated once and kept."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_secret(configured: str, path: Path) -> bytes:
    """Use the configured key, else the one stored at `path` (created 0600 on first use)."""
    if configured:
        if len(configured) < 32:
            raise ValueError("web.secret_key must be at least 32 characters long")
        return configured.encode()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
