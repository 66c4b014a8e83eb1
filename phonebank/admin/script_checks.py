"""The script editor's checks (pure): a `RawScript` → a `Draft` and its problems.

The draft holds the body and the questions exactly as the volunteer screen reads them
(`phonebank.volunteer.script`). Each problem is filed under the name of the input it
is about and says which question and option that is. A draft is built even when there
are problems (unusable values fall back to a default), so the live preview keeps
working while the author types; only a draft without problems is saved.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from phonebank.admin import messages as m
from phonebank.admin.messages import N_
from phonebank.admin.script_form import (
    CALL_FIELDS,
    CATEGORIES,
    CHOICE_KINDS,
    DEFAULT_CLOSING,
    KINDS,
    Draft,
    RawPair,
    RawQuestion,
    RawScript,
)
from phonebank.volunteer.script import END, Branch, Option, Question

# What volunteer.script.render_merge replaces, and what looks like an attempt at it.
_MERGE = re.compile(r"\{(\w+)\}")
_BRACES = re.compile(r"\{([^{}\n]{0,40})\}")
_KEY = re.compile(r"[a-z0-9_]{1,64}")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
SCALE_LOW, SCALE_HIGH = 0, 10  # the screen shows one button per point
MAX_QUESTIONS, MAX_OPTIONS, MAX_BRANCHES = 100, 40, 11
MAX_PROMPT, MAX_LABEL, MAX_LINE, MAX_TEXT = 2000, 255, 2000, 10000

BAD_QUESTION_KEY = N_("Use 1 to 64 lower-case letters, digits or underscores.")
RESERVED_KEY = N_("“end” means the end of the survey; choose another key.")
QUESTION_KEY_TAKEN = N_("Another question has this key.")
OPTION_VALUE_TAKEN = N_("Another option of this question has this value.")
NO_SUCH_QUESTION = N_("No question has this key:")
LOOP = N_("This would ask the same questions again and again:")
TWO_OPTIONS = N_("Give at least two options.")
SCALE_ORDER = N_("The lowest point must be below the highest.")
BRANCH_ORDER = N_("The range starts after it ends.")
BRANCH_OUTSIDE = N_("The range is outside the scale.")
BRANCHES_OVERLAP = N_("This range overlaps an earlier one.")
UNKNOWN_FIELD = N_("Unknown merge field:")
BAD_MERGE = N_("Write merge fields as {first_name}: letters, digits and _ only.")
BAD_FIELD_NAME = N_("Use a lower-case letter, then letters, digits or underscores.")
RESERVED_FIELD = N_("This field is filled for each call; choose another name.")
FIELD_TAKEN = N_("Another field has this name.")
CLOSING_TAKEN = N_("Another closing line is for this outcome.")
TOO_MANY = N_("There are too many of these.")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one input, and where it is, for the page to say so."""

    message: str  # English, marked for translation; the page translates it
    detail: str = ""  # shown as is after the message: a key, a merge field, a loop
    question: int | None = None  # 0-based position of the question it belongs to
    option: int | None = None  # 0-based position of the option or range in it
    part: str = ""  # which input: key, prompt, next, value, label, from, …


Errors = dict[str, Problem]


# ----------------------------------------------------------------------- checking
class _Checker:
    def __init__(self, script: RawScript) -> None:
        self.script = script
        self.errors: Errors = {}
        own = [p.first for p in script.fields]
        self.merge_names = set(CALL_FIELDS) | set(own)
        # Question number → (input name, option or range number, question key) of
        # each way on that its inputs set.
        self.ways: dict[int, list[tuple[str, int | None, str]]] = {}

    def way(self, question: int, name: str, target: str | None, row: int | None = None) -> None:
        if target and target != END:
            self.ways.setdefault(question, []).append((name, row, target))

    def fail(self, name: str, message: str, detail: str = "", **where: Any) -> None:
        if name not in self.errors:
            self.errors[name] = Problem(message, detail, **where)

    def text(self, name: str, value: str, limit: int, required: bool = False, **where: Any) -> str:
        if required and not value:
            self.fail(name, m.REQUIRED, **where)
        elif len(value) > limit:
            self.fail(name, m.TOO_LONG, **where)
        return value

    def merged(
        self, name: str, value: str, limit: int, required: bool = False, **where: Any
    ) -> str:
        """Text with merge fields: each `{name}` must be one the screen fills."""
        self.text(name, value, limit, required, **where)
        for match in _BRACES.finditer(value):
            inside = match.group(1)
            if not _MERGE.fullmatch(match.group(0)):
                self.fail(name, BAD_MERGE, match.group(0), **where)
            elif inside not in self.merge_names:
                self.fail(name, UNKNOWN_FIELD, match.group(0), **where)
        return value


def check(script: RawScript, outcomes: Collection[str]) -> tuple[Draft, Errors]:
    """The draft and its problems; `outcomes` are the campaign's disposition codes."""
    c = _Checker(script)
    title = c.text("title", script.title, 255)
    body: dict[str, Any] = {
        "fields": _fields(c, script.fields),
        "opening": c.merged("opening", script.opening, MAX_TEXT),
        "sections": _sections(c, script.sections),
        "closings": _closings(c, script.closings, outcomes),
    }
    if len(script.questions) > MAX_QUESTIONS:
        c.fail("questions", TOO_MANY)
    keys = [q.key for q in script.questions]
    questions = tuple(_check_question(c, i, q, keys) for i, q in enumerate(script.questions))
    _check_loops(c, questions)
    return Draft(title, body, questions), c.errors


def _fields(c: _Checker, pairs: Iterable[RawPair]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, pair in enumerate(pairs):
        name = f"field-{i}-name"
        if not _FIELD_NAME.fullmatch(pair.first):
            c.fail(name, m.REQUIRED if not pair.first else BAD_FIELD_NAME, part="field")
        elif pair.first in CALL_FIELDS:
            c.fail(name, RESERVED_FIELD, pair.first, part="field")
        elif pair.first in out:
            c.fail(name, FIELD_TAKEN, pair.first, part="field")
        c.text(f"field-{i}-value", pair.second, 500, required=True, part="field")
        out.setdefault(pair.first, pair.second)
    return out


def _sections(c: _Checker, pairs: Iterable[RawPair]) -> list[dict[str, str]]:
    out = []
    for i, pair in enumerate(pairs):
        c.merged(f"section-{i}-title", pair.first, MAX_LABEL, part="section")
        c.merged(f"section-{i}-text", pair.second, MAX_TEXT, part="section")
        out.append({"title": pair.first, "text": pair.second})
    return out


def _closings(c: _Checker, pairs: Iterable[RawPair], outcomes: Collection[str]) -> dict[str, str]:
    allowed = {DEFAULT_CLOSING, *CATEGORIES, *outcomes}
    out: dict[str, str] = {}
    for i, pair in enumerate(pairs):
        name = f"closing-{i}-key"
        if pair.first not in allowed:
            c.fail(name, m.UNKNOWN_CHOICE, pair.first, part="closing")
        elif pair.first in out:
            c.fail(name, CLOSING_TAKEN, part="closing")
        c.merged(f"closing-{i}-text", pair.second, MAX_LINE, part="closing")
        out.setdefault(pair.first, pair.second)
    return out


def _target(c: _Checker, name: str, target: str, keys: list[str], **where: Any) -> str | None:
    """A branch target: empty (none), END, or the key of a question of the script."""
    if not target:
        return None
    if target != END and target not in keys:
        c.fail(name, NO_SUCH_QUESTION, target, **where)
    return target


def _check_question(c: _Checker, i: int, q: RawQuestion, keys: list[str]) -> Question:
    p = f"q-{i}-"
    at: dict[str, Any] = {"question": i}
    if not q.key:
        c.fail(p + "key", m.REQUIRED, part="key", **at)
    elif q.key == END:
        c.fail(p + "key", RESERVED_KEY, part="key", **at)
    elif not _KEY.fullmatch(q.key):
        c.fail(p + "key", BAD_QUESTION_KEY, part="key", **at)
    elif keys.index(q.key) != i:
        c.fail(p + "key", QUESTION_KEY_TAKEN, q.key, part="key", **at)
    if q.kind not in KINDS:
        c.fail(p + "kind", m.UNKNOWN_CHOICE, part="kind", **at)
    c.merged(p + "prompt", q.prompt, MAX_PROMPT, required=True, part="prompt", **at)
    nxt = _target(c, p + "next", q.next, keys, part="next", **at)
    c.way(i, p + "next", nxt)
    options: list[Option] = []
    low, high = 1, 5
    branches: tuple[Branch, ...] = ()
    if q.kind in CHOICE_KINDS:
        options = _options(c, i, q, keys)
    elif q.kind == "scale":
        low, high, branches = _scale(c, i, q, keys)
    return Question(
        id=0,
        key=q.key,
        kind=q.kind,
        prompt=q.prompt,
        required=q.required,
        options=tuple(options),
        next=nxt,
        low=low,
        high=high,
        branches=branches,
    )


def _options(c: _Checker, i: int, q: RawQuestion, keys: list[str]) -> list[Option]:
    p = f"q-{i}-"
    if len(q.options) < 2:
        c.fail(p + "options", TWO_OPTIONS, part="options", question=i)
    elif len(q.options) > MAX_OPTIONS:
        c.fail(p + "options", TOO_MANY, part="options", question=i)
    seen: set[str] = set()
    out = []
    for j, o in enumerate(q.options):
        name = f"{p}opt-{j}-"
        at: dict[str, Any] = {"question": i, "option": j}
        if not o.value:
            c.fail(name + "value", m.REQUIRED, part="value", **at)
        elif not _KEY.fullmatch(o.value):
            c.fail(name + "value", BAD_QUESTION_KEY, part="value", **at)
        elif o.value in seen:
            c.fail(name + "value", OPTION_VALUE_TAKEN, o.value, part="value", **at)
        seen.add(o.value)
        c.text(name + "label", o.label, MAX_LABEL, required=True, part="label", **at)
        nxt = _target(c, name + "next", o.next, keys, part="next", **at)
        c.way(i, name + "next", nxt, j)
        out.append(Option(o.value, o.label, nxt))
    return out


def _point(c: _Checker, name: str, raw: str, **where: Any) -> int | None:
    try:
        number = int(raw)
    except ValueError:
        c.fail(name, m.REQUIRED if not raw else m.NOT_A_WHOLE_NUMBER, **where)
        return None
    if not SCALE_LOW <= number <= SCALE_HIGH:
        c.fail(name, m.OUT_OF_RANGE, f"{SCALE_LOW}–{SCALE_HIGH}", **where)
        return None
    return number


def _scale(
    c: _Checker, i: int, q: RawQuestion, keys: list[str]
) -> tuple[int, int, tuple[Branch, ...]]:
    p = f"q-{i}-"
    low = _point(c, p + "min", q.low, part="min", question=i)
    high = _point(c, p + "max", q.high, part="max", question=i)
    if low is not None and high is not None and low >= high:
        c.fail(p + "max", SCALE_ORDER, part="max", question=i)
        low = high = None
    low, high = (1, 5) if low is None or high is None else (low, high)
    if len(q.branches) > MAX_BRANCHES:
        c.fail(p + "branches", TOO_MANY, part="branches", question=i)
    out: list[Branch] = []
    for j, b in enumerate(q.branches):
        name = f"{p}branch-{j}-"
        at: dict[str, Any] = {"question": i, "option": j}
        start = _point(c, name + "from", b.low, part="from", **at)
        end = _point(c, name + "to", b.high, part="to", **at)
        if not b.next:
            c.fail(name + "next", m.REQUIRED, part="next", **at)
        nxt = _target(c, name + "next", b.next, keys, part="next", **at)
        if start is None or end is None or nxt is None:
            continue
        if start > end:
            c.fail(name + "from", BRANCH_ORDER, part="from", **at)
        elif start < low or end > high:
            c.fail(name + "from", BRANCH_OUTSIDE, f"{low}–{high}", part="from", **at)
        elif any(start <= other.high and other.low <= end for other in out):
            c.fail(name + "from", BRANCHES_OVERLAP, part="from", **at)
        else:
            out.append(Branch(float(start), float(end), nxt))
            c.way(i, name + "next", nxt, j)
    return low, high, tuple(out)


# -------------------------------------------------------------------------- loops
def _check_loops(c: _Checker, qs: tuple[Question, ...]) -> None:
    """Refuse a way back to a question already asked: the screen would stop there.

    A depth-first walk over every way on that next_question can take (an option, a
    range, the default or the next in order); a way to a question still on the
    walk's stack closes a loop, and the input that sets it is named.
    """
    keys = [q.key for q in qs]
    index = {key: i for i, key in reversed(list(enumerate(keys)))}
    edges = []
    for i, q in enumerate(qs):
        ways = list(c.ways.get(i, ()))
        if not q.next and i + 1 < len(qs):
            ways.append(("", None, keys[i + 1]))  # in order: always forward, never at fault
        edges.append([way for way in ways if way[2] in index])
    state = [0] * len(qs)  # 0 not seen, 1 on the stack, 2 done
    stack: list[int] = []

    def visit(i: int) -> None:
        state[i] = 1
        stack.append(i)
        for name, row, target in edges[i]:
            j = index[target]
            if state[j] == 1:
                loop = [keys[k] for k in stack[stack.index(j) :]] + [target]
                c.fail(name, LOOP, " → ".join(loop), question=i, option=row, part="next")
            elif state[j] == 0:
                visit(j)
        stack.pop()
        state[i] = 2

    for start in range(len(qs)):
        if state[start] == 0:
            visit(start)
