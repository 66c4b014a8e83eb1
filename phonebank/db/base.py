"""The declarative base and the columns every table shares."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from phonebank.db.types import UTCDateTime

# Every constraint gets a predictable name: Alembic's SQLite batch mode can only
# drop or change a constraint it can name, and PostgreSQL then gets the same names.
# Names stay under PostgreSQL's 63-character limit (a unit test checks it).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    # Integer, not BigInteger: SQLite only auto-increments an INTEGER primary key.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-100)


class TimestampMixin:
    # The server default serves bulk loads (COPY, INSERT ... SELECT) that bypass the ORM.
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now(), nullable=False, sort_order=100
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(),
        default=utcnow,
        onupdate=utcnow,
        server_default=func.now(),
        nullable=False,
        sort_order=100,
    )
