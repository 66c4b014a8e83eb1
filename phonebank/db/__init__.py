"""The database layer: models, engines and sessions, migrations.

from phonebank.db import make_engine, session_factory, upgrade
upgrade(url)                         # schema to the newest revision
Session = session_factory(make_engine(url))
"""

from __future__ import annotations

from phonebank.db.base import Base
from phonebank.db.engine import make_engine, mask_url, session_factory
from phonebank.db.migrate import current, downgrade, heads, upgrade

__all__ = [
    "Base",
    "current",
    "downgrade",
    "heads",
    "make_engine",
    "mask_url",
    "session_factory",
    "upgrade",
]
