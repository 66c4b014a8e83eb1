"""Call-floor scenarios: loading JSON files, checking them, and the default set.

A scenario file is one JSON object; see docs/dialer.md for every field. Errors
name the file and the field (`floor.json: answer_seconds.mean: must be > 0`).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUTCOME_KEYS = ("human", "machine", "busy", "no_answer", "invalid")


class ScenarioError(ValueError):
    """A scenario file or object that cannot be used, with where and why."""


@dataclass(frozen=True)
class Dist:
    """A duration distribution: constant, uniform, exponential, lognormal or a mixture."""

    kind: str
    value: float = 0.0
    low: float = 0.0
    high: float = 0.0
    mean: float = 0.0
    cv: float = 0.0
    parts: tuple[tuple[float, Dist], ...] = ()

    def sample(self, rng: random.Random) -> float:
        if self.kind == "constant":
            return self.value
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.mean)
        if self.kind == "lognormal":
            sigma2 = math.log(1.0 + self.cv * self.cv)
            return rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))
        pick = rng.random() * sum(w for w, _ in self.parts)
        for weight, part in self.parts:
            pick -= weight
            if pick <= 0:
                return part.sample(rng)
        return self.parts[-1][1].sample(rng)

    def expected(self) -> float:
        if self.kind == "constant":
            return self.value
        if self.kind == "uniform":
            return (self.low + self.high) / 2
        if self.kind in ("exponential", "lognormal"):
            return self.mean
        total = sum(w for w, _ in self.parts)
        return sum(w * d.expected() for w, d in self.parts) / total


@dataclass(frozen=True)
class Scenario:
    name: str
    agents: int
    hours: float
    seeds: int
    abandon_target: float
    outcomes: dict[str, float]
    answer_seconds: Dist
    talk_seconds: Dist
    wrap_seconds: Dist
    no_answer_timeout: float
    lines: int | None = None
    amd_accuracy: float = 1.0
    fail_seconds: Dist = Dist("constant", value=3.0)
    # Seconds a human may wait for a volunteer before the call counts as abandoned.
    abandon_limit: float = 2.0


def _num(obj: dict[str, Any], key: str, where: str, *, minimum: float = 0.0) -> float:
    if key not in obj:
        raise ScenarioError(f"{where}.{key}: missing")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}.{key}: must be a number, got {value!r}")
    if not value >= minimum:
        raise ScenarioError(f"{where}.{key}: must be >= {minimum}, got {value}")
    return float(value)


def parse_dist(raw: Any, where: str) -> Dist:
    if not isinstance(raw, dict) or "dist" not in raw:
        raise ScenarioError(f"{where}: must be an object with a 'dist' field")
    kind = raw["dist"]
    if kind == "constant":
        return Dist(kind, value=_num(raw, "value", where))
    if kind == "uniform":
        low, high = _num(raw, "low", where), _num(raw, "high", where)
        if high < low:
            raise ScenarioError(f"{where}: high ({high}) is below low ({low})")
        return Dist(kind, low=low, high=high)
    if kind == "exponential":
        return Dist(kind, mean=_num(raw, "mean", where, minimum=1e-9))
    if kind == "lognormal":
        return Dist(kind, mean=_num(raw, "mean", where, minimum=1e-9), cv=_num(raw, "cv", where))
    if kind == "mixture":
        parts = raw.get("parts")
        if not isinstance(parts, list) or not parts:
            raise ScenarioError(f"{where}.parts: must be a non-empty list")
        out = []
        for i, part in enumerate(parts):
            sub = f"{where}.parts[{i}]"
            if not isinstance(part, dict):
                raise ScenarioError(f"{sub}: must be an object")
            weight = _num(part, "weight", sub, minimum=1e-9)
            out.append((weight, parse_dist({k: v for k, v in part.items() if k != "weight"}, sub)))
        return Dist(kind, parts=tuple(out))
    raise ScenarioError(
        f"{where}.dist: unknown {kind!r} (constant, uniform, exponential, lognormal, mixture)"
    )


def parse_scenario(raw: Any, where: str = "scenario") -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: must be a JSON object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{where}.name: must be a non-empty string")
    outcomes = raw.get("outcomes")
    if not isinstance(outcomes, dict):
        raise ScenarioError(f"{where}.outcomes: must be an object of shares")
    unknown = set(outcomes) - set(OUTCOME_KEYS)
    if unknown:
        raise ScenarioError(f"{where}.outcomes: unknown keys {sorted(unknown)}")
    shares = {
        k: _num(outcomes, k, f"{where}.outcomes") if k in outcomes else 0.0 for k in OUTCOME_KEYS
    }
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"{where}.outcomes: shares must add up to 1, they add up to {total:g}")
    lines = raw.get("lines")
    if lines is not None and (not isinstance(lines, int) or isinstance(lines, bool) or lines < 1):
        raise ScenarioError(f"{where}.lines: must be a positive integer or absent, got {lines!r}")
    agents = raw.get("agents")
    if not isinstance(agents, int) or isinstance(agents, bool) or agents < 1:
        raise ScenarioError(f"{where}.agents: must be a positive integer, got {agents!r}")
    seeds = raw.get("seeds", 20)
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ScenarioError(f"{where}.seeds: must be a positive integer, got {seeds!r}")
    accuracy = _num(raw, "amd_accuracy", where) if "amd_accuracy" in raw else 1.0
    if not 0.5 < accuracy <= 1.0:
        raise ScenarioError(f"{where}.amd_accuracy: must be in (0.5, 1], got {accuracy}")
    target = _num(raw, "abandon_target", where)
    if target > 1:
        raise ScenarioError(f"{where}.abandon_target: a share in [0, 1], got {target}")
    return Scenario(
        name=name,
        agents=agents,
        hours=_num(raw, "hours", where, minimum=1e-3),
        seeds=seeds,
        abandon_target=target,
        outcomes=shares,
        answer_seconds=parse_dist(raw.get("answer_seconds"), f"{where}.answer_seconds"),
        talk_seconds=parse_dist(raw.get("talk_seconds"), f"{where}.talk_seconds"),
        wrap_seconds=parse_dist(raw.get("wrap_seconds"), f"{where}.wrap_seconds"),
        no_answer_timeout=_num(raw, "no_answer_timeout", where, minimum=1e-3),
        lines=lines,
        amd_accuracy=accuracy,
        fail_seconds=parse_dist(raw["fail_seconds"], f"{where}.fail_seconds")
        if "fail_seconds" in raw
        else Dist("constant", value=3.0),
    )


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from exc
    return parse_scenario(raw, str(path))


def default_scenario_dict(agents: int, human: float, *, hours: float = 4.0) -> dict[str, Any]:
    """The realistic mix of the issue: 20 % machines, 5 % busy, the rest no answer at 25 s."""
    return {
        "name": f"n{agents}-p{round(human * 100)}",
        "agents": agents,
        "hours": hours,
        "seeds": 20,
        "abandon_target": 0.03,
        "outcomes": {"human": human, "machine": 0.20, "busy": 0.05, "no_answer": 0.75 - human},
        "answer_seconds": {
            "dist": "mixture",
            "parts": [
                {"weight": 0.5, "dist": "uniform", "low": 6, "high": 10},
                {"weight": 0.5, "dist": "uniform", "low": 18, "high": 22},
            ],
        },
        "talk_seconds": {"dist": "lognormal", "mean": 120, "cv": 0.8},
        "wrap_seconds": {"dist": "lognormal", "mean": 15, "cv": 0.5},
        "no_answer_timeout": 25,
    }


def default_scenarios(hours: float = 4.0) -> list[Scenario]:
    specs = [(5, 0.20), (15, 0.10), (15, 0.20), (15, 0.30), (50, 0.20)]
    return [parse_scenario(default_scenario_dict(a, h, hours=hours), f"n{a}") for a, h in specs]
