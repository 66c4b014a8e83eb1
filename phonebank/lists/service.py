"""Import a list file into a campaign: stream, normalise, de-duplicate, write in chunks.

Identity (see docs/lists.md): a row is a contact already known to the campaign
when (1) it has the same source file and external id, or (2) the same name
(case, accents and punctuation ignored) and the same birth date, or (3) the
same name (or no name at all) and one of its numbers, with no conflicting
birth date. Otherwise it is a new contact. A number belongs to one contact
per campaign: seen again, it is a duplicate.

The whole import is one transaction: a failure (or --dry-run) leaves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from phonebank.lists import pgcopy, repo
from phonebank.lists.errors import ListFileError
from phonebank.lists.headers import map_headers
from phonebank.lists.merge import Draft, NewPhone, merge_into
from phonebank.lists.reader import Row, open_list
from phonebank.lists.rows import ParsedRow, RowParser
from phonebank.lists.values import name_key
from phonebank.lists.writer import ChunkWriter

DEFAULT_CHUNK = 2000


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


@dataclass
class ImportSummary:
    file: str
    campaign: str
    call_list: str | None = None
    dry_run: bool = False
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    contacts_created: int = 0
    contacts_merged: int = 0
    phones_valid: int = 0
    phones_invalid: int = 0
    duplicates: int = 0
    dnc: int = 0
    list_entries_added: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _loaded_key(draft: Draft) -> str:
    return name_key(draft.fields.get("last_name") or "", draft.fields.get("first_name") or "")


def _describe(draft: Draft) -> str:
    return f"contact {draft.id}" if draft.id else f"line {draft.first_line}"


def _identity_of(draft: Draft) -> str | None:
    if draft.row_identity is not None:
        return draft.row_identity[0]
    born, key = draft.birth_date, _loaded_key(draft)
    return None if born is None or key == "|" else f"{key}|{born.isoformat()}"


class _Import:
    """State of one import across chunks (the in-memory identity index above all)."""

    def __init__(
        self, conn: Connection, campaign: int, source: str, summary: ImportSummary
    ) -> None:
        self.conn, self.campaign, self.source, self.summary = conn, campaign, source, summary
        # hash(name|birth date) -> contact id: one small int pair per dated contact.
        self.identity: dict[int, int] = {
            hash(f"{name_key(last, first)}|{born.isoformat()}"): cid
            for cid, last, first, born in repo.identity_rows(conn, campaign)
        }

    def chunk(
        self, parsed: list[ParsedRow], list_id: int | None
    ) -> tuple[list[tuple[ParsedRow, str]], Callable[[], None]]:
        """Resolve one chunk's rows: the rows rejected as duplicates, and the write to run."""
        numbers = sorted({p.e164 for row in parsed for p, _ in row.phones})
        owners = repo.phone_owners(self.conn, self.campaign, numbers)
        dnc = repo.dnc_numbers(self.conn, numbers)
        external_ids = sorted(
            {r.fields["external_id"] for r in parsed if r.fields.get("external_id")}
        )
        by_external = (
            repo.by_external_id(self.conn, self.campaign, self.source, external_ids)
            if external_ids
            else {}
        )
        wanted = set(owners.values()) | set(by_external.values())
        for row in parsed:
            key = row.identity_key
            if key is not None and (cid := self.identity.get(hash(key))) is not None:
                wanted.add(cid)
        loaded = repo.load_drafts(self.conn, wanted)
        owner_of: dict[str, Draft] = {e164: loaded[cid] for e164, cid in owners.items()}
        external: dict[str, Draft] = {x: loaded[cid] for x, cid in by_external.items()}
        identity: dict[str, Draft] = {}
        new: list[Draft] = []
        touched: list[Draft] = []
        rejected: list[tuple[ParsedRow, str]] = []
        for row in parsed:
            target = self._find(row, loaded, owner_of, external, identity)
            if target is None and all(p.e164 in owner_of for p, _ in row.phones):
                # Someone else's numbers only: importing the person would give a contact
                # the dialer can never reach, and a new one at every re-import.
                holders = sorted({_describe(owner_of[p.e164]) for p, _ in row.phones})
                self.summary.duplicates += len(row.phones)
                self.summary.phones_invalid += len(row.invalid)
                rejected.append(
                    (row, f"every number already belongs to another contact ({', '.join(holders)})")
                )
                continue
            if target is None:
                target = Draft(
                    dict(row.fields), list(row.tags), dict(row.custom), first_line=row.line
                )
                target.dirty = True
                target.row_identity = (row.identity_key,)
                new.append(target)
                self.summary.contacts_created += 1
            else:
                merge_into(target, row.fields, row.tags, row.custom)
                self.summary.contacts_merged += 1
            if row.identity_key is not None:
                identity.setdefault(row.identity_key, target)
            if row.fields.get("external_id"):
                external.setdefault(row.fields["external_id"], target)
            self._add_phones(row, target, owner_of, dnc)
            touched.append(target)
        if self.conn.dialect.name == "postgresql":
            return rejected, self._prepare(new, loaded, touched, list_id)
        return rejected, partial(self._flush, new, loaded, touched, list_id)

    def _find(
        self,
        row: ParsedRow,
        loaded: dict[int, Draft],
        owner_of: dict[str, Draft],
        external: dict[str, Draft],
        identity: dict[str, Draft],
    ) -> Draft | None:
        ext = row.fields.get("external_id")
        if ext and ext in external:
            return external[ext]
        key = row.identity_key
        if key is not None:
            if key in identity:
                return identity[key]
            cid = self.identity.get(hash(key))
            draft = loaded.get(cid) if cid is not None else None
            # The hash only finds a candidate; the stored names and date decide.
            if draft is not None and _identity_of(draft) == key:
                return draft
        born = row.fields.get("birth_date")
        for phone, _ in row.phones:
            owner = owner_of.get(phone.e164)
            if owner is None:
                continue
            same_name = row.anonymous or _loaded_key(owner) == row.name_key
            dates_agree = born is None or owner.birth_date is None or owner.birth_date == born
            if same_name and dates_agree:
                return owner
        return None

    def _add_phones(
        self, row: ParsedRow, target: Draft, owner_of: dict[str, Draft], dnc: set[str]
    ) -> None:
        summary = self.summary
        summary.phones_invalid += len(row.invalid)
        for message in row.warnings:
            summary.warnings.append({"line": row.line, "warning": message})
        for phone, raw in row.phones:
            owner = owner_of.get(phone.e164)
            if owner is not None:
                summary.duplicates += 1
                if owner is not target:
                    summary.warnings.append(
                        {
                            "line": row.line,
                            "warning": f"{phone.e164} already belongs to another contact "
                            f"({_describe(owner)}); kept there",
                        }
                    )
                continue
            on_dnc = phone.e164 in dnc
            target.phones.append(NewPhone(phone, raw, on_dnc))
            owner_of[phone.e164] = target
            summary.phones_valid += 1
            summary.dnc += on_dnc

    def _flush(
        self, new: list[Draft], loaded: dict[int, Draft], touched: list[Draft], list_id: int | None
    ) -> None:
        repo.insert_contacts(self.conn, new, self.campaign, self.source)
        self._index(new, loaded)
        repo.insert_phones(self.conn, [*new, *(d for d in loaded.values() if d.phones)])
        self._finish([d for d in loaded.values() if d.dirty], touched, list_id)

    def _index(self, new: list[Draft], loaded: dict[int, Draft]) -> None:
        # Merges may have given a stored contact its birth date: index it too.
        for draft in [*new, *loaded.values()]:
            key = _identity_of(draft)
            if key is not None and draft.id is not None:
                self.identity[hash(key)] = draft.id

    def _prepare(
        self, new: list[Draft], loaded: dict[int, Draft], touched: list[Draft], list_id: int | None
    ) -> Callable[[], None]:
        """_flush on PostgreSQL, in two halves: ids and COPY text made here, in the thread
        that parses; the write returned only sends them, so it overlaps the next parse."""
        contacts = repo.contacts_copy(self.conn, new, self.campaign, self.source)
        self._index(new, loaded)
        phones = repo.phones_copy([*new, *(d for d in loaded.values() if d.phones)])
        dirty = [d for d in loaded.values() if d.dirty]

        def write() -> None:
            pgcopy.send_copy(self.conn, contacts)
            pgcopy.send_copy(self.conn, phones)
            self._finish(dirty, touched, list_id)

        return write

    def _finish(self, dirty: list[Draft], touched: list[Draft], list_id: int | None) -> None:
        repo.update_contacts(self.conn, dirty)
        if list_id is not None:
            ids = [d.id for d in touched if d.id is not None]
            self.summary.list_entries_added += repo.add_entries(self.conn, list_id, ids)


def import_file(
    engine: Engine,
    path: Path,
    options: ImportOptions,
    rejects: RejectSink | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> ImportSummary:
    """Import one file; raises ListFileError (nothing imported) if it cannot be read."""
    started = time.perf_counter()
    summary = ImportSummary(str(path), options.campaign, options.list_name, options.dry_run)
    with engine.connect() as conn, open_list(path) as opened:
        summary.encoding, summary.delimiter = opened.encoding, opened.delimiter
        mapping = map_headers(opened.headers, options.overrides, source=str(path))
        if not mapping.phone_columns:
            raise ListFileError(
                f"{path}: no phone column among {', '.join(opened.headers)}; "
                "name one with --map COLUMN=phone"
            )
        transaction = conn.begin()
        writer = ChunkWriter(threaded=conn.dialect.name == "postgresql")
        try:
            campaign = repo.campaign_id(conn, options.campaign, options.create_campaign)
            list_id = (
                repo.call_list_id(conn, campaign, options.list_name, {})
                if options.list_name
                else None
            )
            state = _Import(conn, campaign, path.name[:128], summary)
            parse = RowParser(mapping, options.region)
            for chunk in _chunks(opened.rows, options.chunk_size):
                parsed, values = [], {}
                refused: list[tuple[ParsedRow, str]] = []
                for row in chunk:
                    result = parse(row)
                    values[row.line] = row.values
                    if result.reject is None:
                        parsed.append(result)
                    else:
                        summary.phones_invalid += len(result.invalid)
                        refused.append((result, result.reject))
                summary.rows += len(chunk)
                writer.wait()
                duplicates, write = state.chunk(parsed, list_id)
                refused.extend(duplicates)
                done = (summary.rows, opened.progress())
                report = partial(_report, summary, refused, values, rejects, progress, done)
                writer.submit(write, report)
            writer.wait()
            if summary.rows == 0:
                raise ListFileError(f"{path}: no data rows under the header")
        except BaseException:
            writer.close()
            transaction.rollback()
            raise
        writer.close()
        if options.dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _report(
    summary: ImportSummary,
    refused: list[tuple[ParsedRow, str]],
    values: dict[int, dict[str, str]],
    rejects: RejectSink | None,
    progress: Callable[[int, float], None] | None,
    done: tuple[int, float],
) -> None:
    """A chunk's rejected rows and progress, once its write has succeeded."""
    for result, reason in sorted(refused, key=lambda item: item[0].line):
        summary.rejected.append({"line": result.line, "reason": reason})
        if rejects is not None:
            rejects.write(result.line, reason, values[result.line])
    if progress is not None:
        progress(*done)
