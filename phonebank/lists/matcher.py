"""Which contact each row of a list is, a chunk of rows at a time. Pure: the database's
answers for a chunk come in as `Known`, the writes go out as a `ChunkPlan`.

The rule (docs/lists.md): a row is a contact the campaign already has when it has
(1) the same source file and external id, or (2) the same name (accents, case and
punctuation ignored) and birth date, or (3) the same name, or none, and one of its
numbers, with no conflicting birth date. Otherwise it is a new contact. A number
belongs to one contact per campaign: seen again, it is a duplicate.

The outcome is the one of reading the rows one at a time, whatever the chunk size:
each row sees what the rows before it did. Within a chunk that is this module's own
bookkeeping. Across chunks it is the database, except for the chunk just before:
its write overlaps the next chunk's lookups (service.py), so its answers lack that
chunk, and what that chunk did is kept here (`_recent`) and wins over them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from phonebank.lists.merge import Draft, NewPhone, merge_into
from phonebank.lists.rows import ParsedRow
from phonebank.lists.values import identity_key, name_key


@dataclass
class Known:
    """What the database says about one chunk's rows (before the chunk just before it)."""

    # e164 → contact id, among the campaign's contacts.
    owners: dict[str, int]
    dnc: set[str]
    # External id (in this file's source) → contact id.
    external: dict[str, int]
    # The contacts those name, and those the identity index named (`Matcher.candidates`).
    drafts: dict[int, Draft]
    # Ids reserved for new contacts (as many as the chunk has rows, less what is left).
    ids: list[int]


@dataclass
class ChunkPlan:
    """What one chunk changes: written as it is, before the next chunk is matched."""

    new: list[Draft] = field(default_factory=list)
    # Contacts already written whose fields changed.
    changed: list[Draft] = field(default_factory=list)
    # (contact id, phone, position among the contact's numbers).
    phones: list[tuple[int, NewPhone, int]] = field(default_factory=list)
    # Every contact a row went to, once, in row order (for the call list).
    touched: list[int] = field(default_factory=list)
    rejected: list[tuple[ParsedRow, str]] = field(default_factory=list)


@dataclass
class Counts:
    """The import's running totals (ImportSummary has the same names)."""

    contacts_created: int = 0
    contacts_merged: int = 0
    phones_valid: int = 0
    phones_invalid: int = 0
    duplicates: int = 0
    dnc: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)


def identity_of(draft: Draft) -> str | None:
    """The draft's name|birth-date key (None without a name or a date)."""
    if draft.key_cache is not None:
        return draft.key_cache[0]
    found = identity_key(_name_of(draft), draft.birth_date)
    draft.key_cache = (found,)
    return found


_new_tuple = tuple.__new__


def _describe(draft: Draft) -> str:
    return f"contact {draft.id}"


class Matcher:
    """The rows of one import, matched chunk by chunk against the campaign."""

    def __init__(self, source: str, identity: dict[int, int], counts: Counts) -> None:
        self.source, self.counts = source, counts
        # hash(name|birth date) → contact id, for every dated contact of the campaign.
        self.identity = identity
        # Ids reserved and not yet given, and those asked for and not yet received.
        self._ids: deque[int] = deque()
        self._promised = 0
        # What the chunk just before did (see the module's docstring).
        self._recent: dict[int, Draft] = {}
        self._recent_owner: dict[str, Draft] = {}
        self._recent_external: dict[str, Draft] = {}

    def ids_wanted(self, rows: int, before: int) -> int:
        """How many ids to reserve with the lookups of a chunk of `rows` rows, the chunk
        before it (`before` rows) not being matched yet: enough that neither can run out,
        were every row a new contact; the rest waits for later chunks."""
        wanted = max(rows + before - self._promised, 0)
        self._promised += wanted
        return wanted

    def candidates(self, rows: Iterable[ParsedRow]) -> set[int]:
        """Contacts the identity index names for these rows: to load with the chunk."""
        get = self.identity.get
        return {
            cid
            for row in rows
            if (key := row.identity_key) is not None and (cid := get(hash(key))) is not None
        }

    def chunk(self, rows: list[ParsedRow], known: Known) -> ChunkPlan:
        """Match the chunk's rows in order; the drafts it touched are left as written."""
        self._ids.extend(known.ids)
        drafts = known.drafts
        drafts.update(self._recent)
        # A contact deleted between the lookups' two queries is simply not there.
        owner_of = {e164: drafts[cid] for e164, cid in known.owners.items() if cid in drafts}
        owner_of.update(self._recent_owner)
        external = {x: drafts[cid] for x, cid in known.external.items() if cid in drafts}
        external.update(self._recent_external)
        state = _ChunkState(drafts, owner_of, external, known.dnc)
        plan = ChunkPlan()
        for row in rows:
            self._row(row, state, plan)
        self._settle(state, plan)
        return plan

    def _row(self, row: ParsedRow, state: _ChunkState, plan: ChunkPlan) -> None:
        counts = self.counts
        target = self._find(row, state)
        if target is None and _all_owned(row, state.owner_of):
            # Someone else's numbers only: importing the person would give a contact
            # the dialer can never reach, and a new one at every re-import.
            owners = {id(d): d for d in (state.owner_of[p.e164] for p, _ in row.phones)}
            holders = [_describe(d) for d in sorted(owners.values(), key=lambda d: d.id or 0)]
            counts.duplicates += len(row.phones)
            counts.phones_invalid += len(row.invalid)
            plan.rejected.append(
                (row, f"every number already belongs to another contact ({', '.join(holders)})")
            )
            return
        if target is None:
            # The row's own dicts: it is not read again once matched.
            key = row.identity_key
            target = Draft(
                row.fields,
                row.tags,
                row.custom,
                self._take_id(),
                self.source,
                [],
                0,
                False,
                True,
                (key,),
            )
            state.drafts[target.id] = target  # type: ignore[index]
            counts.contacts_created += 1
        else:
            merge_into(target, row.fields, row.tags, row.custom, target.source == self.source)
            counts.contacts_merged += 1
            key = identity_of(target)
        state.touched[target.id] = target  # type: ignore[index]
        if key is not None:
            state.identity[key] = target
            self.identity[hash(key)] = target.id  # type: ignore[assignment]
        external_id = target.fields.get("external_id")
        if external_id and target.source == self.source:
            state.external.setdefault(external_id, target)
            state.new_external.setdefault(external_id, target)
        self._add_phones(row, target, state)

    def _take_id(self) -> int:
        self._promised -= 1
        return self._ids.popleft()

    def _find(self, row: ParsedRow, state: _ChunkState) -> Draft | None:
        ext = row.fields.get("external_id")
        if ext and ext in state.external:
            return state.external[ext]
        key = row.identity_key
        if key is not None:
            draft = state.identity.get(key)
            if draft is None and (cid := self.identity.get(hash(key))) is not None:
                # Every contact the index named was loaded with the chunk, or is in memory;
                # one missing was deleted meanwhile, and is no match.
                draft = state.drafts.get(cid)
            # The index only finds a candidate; the stored names and date decide.
            if draft is not None and identity_of(draft) == key:
                return draft
        born = row.fields.get("birth_date")
        for phone, _ in row.phones:
            owner = state.owner_of.get(phone.e164)
            if owner is None:
                continue
            same_name = row.anonymous or _name_of(owner) == row.name_key
            dates_agree = born is None or owner.birth_date is None or owner.birth_date == born
            if same_name and dates_agree:
                return owner
        return None

    def _add_phones(self, row: ParsedRow, target: Draft, state: _ChunkState) -> None:
        counts = self.counts
        if row.invalid:
            counts.phones_invalid += len(row.invalid)
        for message in row.warnings:
            counts.warnings.append({"line": row.line, "warning": message})
        owner_of, new_owner, dnc, phones = state.owner_of, state.new_owner, state.dnc, target.phones
        for phone, raw in row.phones:
            owner = owner_of.get(phone.e164)
            if owner is not None:
                counts.duplicates += 1
                if owner is not target:
                    counts.warnings.append(
                        {
                            "line": row.line,
                            "warning": f"{phone.e164} already belongs to another contact "
                            f"({_describe(owner)}); kept there",
                        }
                    )
                continue
            on_dnc = phone.e164 in dnc
            # tuple.__new__: a NamedTuple's own __new__ is Python code, three times slower.
            phones.append(_new_tuple(NewPhone, (phone, raw, on_dnc)))
            owner_of[phone.e164] = new_owner[phone.e164] = target
            counts.phones_valid += 1
            if on_dnc:
                counts.dnc += 1

    def _settle(self, state: _ChunkState, plan: ChunkPlan) -> None:
        """The plan of the chunk, and its drafts as they will be once it is written."""
        for cid, draft in state.touched.items():
            plan.touched.append(cid)
            if not draft.persisted:
                plan.new.append(draft)
            elif draft.dirty:
                plan.changed.append(draft)
            for position, phone in enumerate(draft.phones, start=draft.stored_phones):
                plan.phones.append((cid, phone, position))
            draft.stored_phones += len(draft.phones)
            draft.phones = []
            draft.persisted, draft.dirty = True, False
        self._recent = state.touched
        self._recent_owner = state.new_owner
        self._recent_external = state.new_external


def _all_owned(row: ParsedRow, owner_of: dict[str, Draft]) -> bool:
    # A loop, not all() over a generator: this runs once a row.
    for phone, _ in row.phones:  # noqa: SIM110
        if phone.e164 not in owner_of:
            return False
    return True


def _name_of(draft: Draft) -> str:
    fields = draft.fields
    return name_key(fields.get("last_name") or "", fields.get("first_name") or "")


class _ChunkState:
    """One chunk's view of the campaign, kept up to date row by row."""

    def __init__(
        self,
        drafts: dict[int, Draft],
        owner_of: dict[str, Draft],
        external: dict[str, Draft],
        dnc: set[str],
    ) -> None:
        self.drafts, self.owner_of, self.external, self.dnc = drafts, owner_of, external, dnc
        self.identity: dict[str, Draft] = {}
        # Contacts the rows went to, in order; numbers and external ids given this chunk.
        self.touched: dict[int, Draft] = {}
        self.new_owner: dict[str, Draft] = {}
        self.new_external: dict[str, Draft] = {}
