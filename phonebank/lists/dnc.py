"""The do-not-call list: global, by number. Adding a number makes every phone with
that number, in every campaign, do_not_call and not callable."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from phonebank.db.models import DoNotCallEntry, PhoneNumber
from phonebank.lists.errors import ListFileError
from phonebank.lists.headers import map_headers
from phonebank.lists.phones import Phone, normalize
from phonebank.lists.reader import open_list

_BATCH = 500


@dataclass
class DncResult:
    added: int = 0
    already: int = 0
    phones_marked: int = 0
    rows: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _insert_new(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return pg_insert(DoNotCallEntry).on_conflict_do_nothing(index_elements=["e164"])
    if conn.dialect.name == "sqlite":
        return sqlite_insert(DoNotCallEntry).on_conflict_do_nothing(index_elements=["e164"])
    return insert(DoNotCallEntry)


def add_e164(conn: Connection, numbers: Iterable[str], *, source: str, reason: str) -> DncResult:
    """Put already-normalised numbers on the list, in the caller's transaction."""
    result = DncResult()
    _add_batch(conn, {e164: e164 for e164 in numbers}, source, reason, result)
    return result


def _add_batch(
    conn: Connection, numbers: dict[str, str], source: str, reason: str, result: DncResult
) -> None:
    if not numbers:
        return
    wanted = sorted(numbers)
    present = set(
        conn.execute(select(DoNotCallEntry.e164).where(DoNotCallEntry.e164.in_(wanted))).scalars()
    )
    now = datetime.now(UTC)
    rows = [
        {"e164": e164, "reason": reason, "source": source[:32], "added_at": now}
        for e164 in wanted
        if e164 not in present
    ]
    added = 0
    if rows:
        # Another writer (the call-back line's opt-out, a second import) may add the
        # same number meanwhile: a duplicate must not undo the whole batch, and only
        # the rows really inserted count as added.
        inserted = conn.execute(_insert_new(conn).returning(DoNotCallEntry.e164), rows)
        added = len(inserted.fetchall())
    result.added += added
    result.already += len(wanted) - added
    marked = conn.execute(
        update(PhoneNumber)
        .where(PhoneNumber.e164.in_(wanted))
        .where((PhoneNumber.do_not_call.is_(False)) | (PhoneNumber.callable.is_(True)))
        .values(do_not_call=True, callable=False, updated_at=now)
    )
    result.phones_marked += marked.rowcount or 0
    numbers.clear()


def add_numbers(
    engine: Engine,
    raw_numbers: Iterable[tuple[int, str]],
    *,
    source: str = "manual",
    reason: str = "",
    region: str = "FR",
) -> DncResult:
    """Add (line, raw number) pairs; invalid ones are rejected with their line."""
    result = DncResult()
    pending: dict[str, str] = {}
    with engine.begin() as conn:
        for line, raw in raw_numbers:
            result.rows += 1
            phone = normalize(raw, region)
            if not isinstance(phone, Phone):
                result.rejected.append({"line": line, "reason": str(phone)})
                continue
            pending[phone.e164] = raw
            if len(pending) >= _BATCH:
                _add_batch(conn, pending, source, reason, result)
        _add_batch(conn, pending, source, reason, result)
    return result


def file_numbers(path: Path, overrides: dict[str, str]) -> Iterator[tuple[int, str]]:
    """Numbers of a DNC file: its phone columns, or every cell of a file without a header."""
    with open_list(path) as opened:
        mapping = map_headers(opened.headers, overrides, source=str(path))
        columns: Sequence[str] = mapping.phone_columns
        if not columns:
            if not all(isinstance(normalize(h), Phone) for h in opened.headers):
                raise ListFileError(
                    f"{path}: no phone column among {', '.join(opened.headers)}; "
                    "name one with --map COLUMN=phone"
                )
            # No header: a bare list of numbers, the first line included.
            for header in opened.headers:
                yield 1, header
            columns = opened.headers
        for row in opened.rows:
            for column in columns:
                if row.values.get(column):
                    yield row.line, row.values[column]


def list_entries(engine: Engine, limit: int | None = None) -> list[DoNotCallEntry]:
    with engine.connect() as conn:
        statement = select(DoNotCallEntry).order_by(DoNotCallEntry.added_at, DoNotCallEntry.id)
        if limit:
            statement = statement.limit(limit)
        with Session(bind=conn) as session:
            return list(session.scalars(statement))
