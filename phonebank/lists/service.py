"""Import a list file into a campaign: stream, normalise, de-duplicate, write in chunks.

Who each row is comes from matcher.py (pure); this module reads the file, asks the
database what the matcher needs, and writes what it decided. The whole import is one
transaction: a failure (or --dry-run) leaves nothing.

The work of a chunk overlaps the database's: while the server writes chunk N and
looks up chunk N+1 (on a thread of its own, pipeline.py), this thread reads, parses
and matches. On one connection the order is: lookups N+1, write N, lookups N+2,
write N+1, ... so the lookups of a chunk do not see the chunk just before; the
matcher keeps that one in memory.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from phonebank.db.engine import SQLITE_BEGIN
from phonebank.lists import bulk, pgcopy, repo
from phonebank.lists.errors import ListFileError
from phonebank.lists.headers import ColumnMap, map_headers
from phonebank.lists.matcher import ChunkPlan, Counts, Known, Matcher
from phonebank.lists.pipeline import Pipeline
from phonebank.lists.reader import ListFile, Record, open_list
from phonebank.lists.rows import ParsedRow, RowParser
from phonebank.lists.runtime import bulk_work
from phonebank.lists.values import identity_key, name_key

DEFAULT_CHUNK = 2000
# Chunks between two collections of the youngest objects (see _report_next).
_COLLECT_EVERY = 25


class RejectSink(Protocol):
    def write(self, line: int, reason: str, values: dict[str, str]) -> None: ...


@dataclass
class ImportOptions:
    campaign: str
    list_name: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    region: str = "FR"
    dry_run: bool = False
    create_campaign: bool = False
    chunk_size: int = DEFAULT_CHUNK
    # PostgreSQL: the numbers' foreign key dropped for the load and added again after it,
    # the contacts and numbers locked meanwhile (bulk.py).
    bulk: bool = False


# The --json summary's keys, in this order.
_SUMMARY_KEYS = (
    *("file", "campaign", "call_list", "dry_run", "encoding", "delimiter", "rows"),
    *("contacts_created", "contacts_merged", "phones_valid", "phones_invalid", "duplicates"),
    *("dnc", "list_entries_added", "rejected", "warnings", "seconds"),
)


@dataclass
class ImportSummary(Counts):
    file: str = ""
    campaign: str = ""
    call_list: str | None = None
    dry_run: bool = False
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    list_entries_added: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in _SUMMARY_KEYS}


@dataclass
class _Chunk:
    """One chunk between its parse and its write."""

    records: list[Record]
    parsed: list[ParsedRow]
    refused: list[tuple[ParsedRow, str]]
    known: Future[Known]
    progress: float


class _Import:
    """One import's chunks through parse → lookups → match → write, overlapped."""

    def __init__(
        self,
        conn: Connection,
        opened: ListFile,
        mapping: ColumnMap,
        summary: ImportSummary,
        options: ImportOptions,
        reporting: tuple[RejectSink | None, Callable[[int, float], None] | None],
    ) -> None:
        self.conn, self.opened, self.summary = conn, opened, summary
        self.rejects, self.progress = reporting
        self.campaign = repo.campaign_id(conn, options.campaign, options.create_campaign)
        self.list_id = (
            repo.call_list_id(conn, self.campaign, options.list_name, {})
            if options.list_name
            else None
        )
        self.source = opened.path.name[:128]
        # hash(name|birth date) -> contact id: one small int pair per dated contact.
        identity = {
            hash(identity_key(name_key(last, first), born)): cid
            for cid, last, first, born in repo.identity_rows(conn, self.campaign)
        }
        self.matcher = Matcher(self.source, identity, summary)
        self.ids = repo.ContactIds(conn)
        self.pipeline = Pipeline(threaded=conn.dialect.name == "postgresql")
        self.parse = RowParser(mapping, options.region)
        self.contact_columns = pgcopy.contact_columns(self.parse.fields)
        self._waiting: _Chunk | None = None
        self._writes: deque[tuple[Future[int], Callable[[int], None]]] = deque()
        self._written = 0

    def run(self, chunk_size: int) -> None:
        records = self.opened.records
        while chunk := list(islice(records, chunk_size)):
            self._add(chunk)
        if self._waiting is not None:
            self._match(self._waiting)
        while self._writes:
            self._report_next()

    def close(self) -> None:
        """Let the database work in flight end (success or not) before the transaction."""
        self.pipeline.close()

    def _add(self, records: list[Record]) -> None:
        parsed, refused = [], []
        for record in records:
            result = self.parse(record)
            if result.reject is None:
                parsed.append(result)
            else:
                self.summary.phones_invalid += len(result.invalid)
                refused.append((result, result.reject))
        self.summary.rows += len(records)
        waiting = self._waiting
        # Unsorted: the server sorts an = ANY() list itself.
        numbers = list(set().union(*(row.numbers for row in parsed)))
        external = sorted({x for r in parsed if (x := r.fields.get("external_id"))})
        lookup = partial(
            repo.lookup,
            self.conn,
            self.campaign,
            self.source,
            numbers,
            external,
            self.matcher.candidates(parsed),
            (self.ids, self.matcher.ids_wanted(len(parsed), len(waiting.parsed) if waiting else 0)),
        )
        # Queued before the write of the chunk waiting to be matched: see the docstring.
        self._waiting = _Chunk(
            records, parsed, refused, self.pipeline.submit(lookup), self.opened.progress()
        )
        if waiting is not None:
            self._match(waiting)

    def _match(self, chunk: _Chunk) -> None:
        plan = self.matcher.chunk(chunk.parsed, chunk.known.result())
        # Writes before ours have ended by now (our lookups were queued behind them).
        while self._writes and self._writes[0][0].done():
            self._report_next()
        write = self._write(plan)
        refused = [*chunk.refused, *plan.rejected]
        done = (self.summary.rows, chunk.progress)
        report = partial(self._report, refused, chunk.records, done)
        self._writes.append((self.pipeline.submit(write), report))

    def _write(self, plan: ChunkPlan) -> Callable[[], int]:
        """The chunk's write, with everything it sends taken now (later rows change the
        drafts): COPY text on PostgreSQL, rows on SQLite."""
        conn, campaign, list_id = self.conn, self.campaign, self.list_id
        updates = repo.contact_updates(plan.changed)
        touched = plan.touched
        if conn.dialect.name == "postgresql":
            contacts = pgcopy.contact_copy(repo.CONTACTS, plan.new, campaign, self.contact_columns)
            phones = pgcopy.phone_copy(repo.PHONES, plan.phones)

            def insert() -> None:
                pgcopy.send_copy(conn, contacts)
                pgcopy.send_copy(conn, phones)

        else:
            new, phone_rows = list(plan.new), list(pgcopy.phone_rows(plan.phones))

            def insert() -> None:
                repo.insert_contacts(conn, new, campaign)
                repo.insert_phones(conn, phone_rows)

        def write() -> int:
            insert()
            repo.update_contacts(conn, updates)
            return repo.add_entries(conn, list_id, touched) if list_id is not None else 0

        return write

    def _report_next(self) -> None:
        future, report = self._writes.popleft()
        report(future.result())
        self._written += 1
        if self._written % _COLLECT_EVERY == 0:
            # The collector is paused while an import runs (runtime.py); the few reference
            # cycles the database layers make (a handful a chunk) are let go of here.
            gc.collect(1)

    def _report(
        self,
        refused: list[tuple[ParsedRow, str]],
        records: list[Record],
        done: tuple[int, float],
        entries_added: int,
    ) -> None:
        """A chunk's rejected rows and progress, once its write has succeeded."""
        summary = self.summary
        summary.list_entries_added += entries_added
        cells = dict(records) if refused and self.rejects is not None else {}
        headers = self.opened.headers
        for result, reason in sorted(refused, key=lambda item: item[0].line):
            summary.rejected.append({"line": result.line, "reason": reason})
            if self.rejects is not None:
                values = dict(zip(headers, cells[result.line], strict=False))
                self.rejects.write(result.line, reason, values)
        if self.progress is not None:
            self.progress(*done)


def _mapping(opened: ListFile, options: ImportOptions, path: Path) -> ColumnMap:
    """The file's columns mapped; ListFileError when none holds phone numbers."""
    mapping = map_headers(opened.headers, options.overrides, source=str(path))
    if not mapping.phone_columns:
        raise ListFileError(
            f"{path}: no phone column among {', '.join(opened.headers)}; "
            "name one with --map COLUMN=phone"
        )
    return mapping


def import_file(
    engine: Engine,
    path: Path,
    options: ImportOptions,
    rejects: RejectSink | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> ImportSummary:
    """Import one file; raises ListFileError (nothing imported) if it cannot be read."""
    started = time.perf_counter()
    summary = ImportSummary(
        file=str(path),
        campaign=options.campaign,
        call_list=options.list_name,
        dry_run=options.dry_run,
    )
    # On SQLite the write lock is taken at once: new contacts' ids are counted on from
    # the largest, which nobody else may change meanwhile (repo.ContactIds).
    immediate = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    with open_list(path) as opened, bulk_work():
        summary.encoding, summary.delimiter = opened.encoding, opened.delimiter
        mapping = _mapping(opened, options, path)
        with immediate.connect() as conn:
            transaction = conn.begin()
            state: _Import | None = None
            try:
                if options.bulk:
                    bulk.check_can_start(conn)
                state = _Import(conn, opened, mapping, summary, options, (rejects, progress))
                if options.bulk:
                    bulk.drop(conn)
                state.run(options.chunk_size)
                if summary.rows == 0:
                    raise ListFileError(f"{path}: no data rows under the header")
                if options.bulk:
                    bulk.restore(conn)
            except BaseException:
                if state is not None:
                    state.close()
                transaction.rollback()
                raise
            state.close()
            if options.dry_run:
                transaction.rollback()
            else:
                transaction.commit()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary
