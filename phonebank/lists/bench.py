"""Import benchmark: a generated N-row list imported into PostgreSQL, beside a raw
COPY of the same file into a bare table (the floor no import can beat)."""

from __future__ import annotations

import random
import resource
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from phonebank.db import make_engine, upgrade
from phonebank.devtools.pgcluster import admin_execute, running_cluster
from phonebank.lists.service import ImportOptions, import_file

HEADER = "Nom;Prénom;Téléphone;Portable;CP;Ville;Date de naissance;Statut\n"
_LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Payet")
_FIRST = ("Marie", "Jean", "Pierre", "Michel", "Nathalie", "Isabelle", "Léa", "Hugo", "Chloé")
_CITIES = (("75011", "Paris"), ("69001", "Lyon"), ("13001", "Marseille"), ("97400", "Saint-Denis"))
_STATUS = ("", "indécis", "soutien", "opposé")


def generate(path: Path, rows: int, seed: int = 4) -> int:
    """Write the list; one mobile per row, a fixed line on every other row. Phones written."""
    rng = random.Random(seed)
    phones = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            postal, city = _CITIES[i % len(_CITIES)]
            if postal == "97400":
                mobile = f"0692 {i % 100:02d} {i // 100 % 100:02d} {i // 10_000 % 100:02d}"
            else:
                n = f"{i:08d}"
                mobile = f"06 {n[0:2]} {n[2:4]} {n[4:6]} {n[6:8]}"
            tail = f"{i % 100:02d}.{i // 100 % 100:02d}.{i // 10_000 % 100:02d}"
            fixed = f"01.{rng.randint(40, 79)}.{tail}" if i % 2 else ""
            phones += 1 + bool(fixed)
            born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1930, 2006)}"
            out.write(
                f"{rng.choice(_LAST)}-{i};{rng.choice(_FIRST)};{fixed};{mobile};{postal};{city};"
                f"{born};{_STATUS[i % 4]}\n"
            )
    return phones


def _copy(url: URL, path: Path) -> float:
    conninfo = f"host={url.host} port={url.port} user={url.username} dbname={url.database}" + (
        f" password={url.password}" if url.password else ""
    )
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE TABLE bare (nom text, prenom text, tel text, portable text, cp text, "
            "ville text, naissance text, statut text)"
        )
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bare FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        conn.commit()
        return time.perf_counter() - started


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _server(server_url: URL | None) -> Iterator[URL]:
    if server_url is not None:
        yield server_url
        return
    with running_cluster() as cluster:
        yield cluster.url()


@dataclass
class ImportRun:
    seconds: float
    peak_rss_mb_before: float
    peak_rss_mb_after: float
    summary: dict[str, Any]


@dataclass
class BenchResult:
    rows: int
    phones: int
    online: ImportRun
    bulk: ImportRun
    copy_seconds: float

    def to_json(self) -> dict[str, Any]:
        copy_rate = self.rows / self.copy_seconds
        out: dict[str, Any] = {"rows": self.rows, "phones": self.phones}
        for prefix, run in (("", self.online), ("bulk_", self.bulk)):
            rate = self.rows / run.seconds
            out.update(
                {
                    f"{prefix}import_seconds": round(run.seconds, 3),
                    f"{prefix}import_rows_per_s": round(rate),
                    f"{prefix}import_to_copy_ratio": round(rate / copy_rate, 4),
                }
            )
        out.update(
            {
                "copy_seconds": round(self.copy_seconds, 3),
                "copy_rows_per_s": round(copy_rate),
                "peak_rss_mb_before_import": round(self.online.peak_rss_mb_before, 1),
                "peak_rss_mb_after_import": round(self.online.peak_rss_mb_after, 1),
                "target_rows_per_s": 30_000,
                "contacts_created": self.online.summary["contacts_created"],
                "phones_valid": self.online.summary["phones_valid"],
                "rejected": len(self.online.summary["rejected"]),
                "bulk_contacts_created": self.bulk.summary["contacts_created"],
            }
        )
        return out


def _import(server: URL, path: Path, bulk: bool) -> ImportRun:
    """The file imported into a database of its own (dropped afterwards)."""
    name = f"phonebank_bench_{uuid.uuid4().hex[:8]}"
    admin_execute(server, f'CREATE DATABASE "{name}"')
    try:
        url = server.set(database=name)
        upgrade(url)
        engine = make_engine(url)
        try:
            before = _peak_rss_mb()
            started = time.perf_counter()
            summary = import_file(
                engine, path, ImportOptions("bench", create_campaign=True, bulk=bulk)
            )
            seconds = time.perf_counter() - started
            return ImportRun(seconds, before, _peak_rss_mb(), summary.to_json())
        finally:
            engine.dispose()
    finally:
        admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _bare_copy(server: URL, path: Path) -> float:
    name = f"phonebank_bench_{uuid.uuid4().hex[:8]}"
    admin_execute(server, f'CREATE DATABASE "{name}"')
    try:
        return _copy(server.set(database=name), path)
    finally:
        admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(rows: int, workdir: Path, server_url: URL | None = None) -> BenchResult:
    """The same generated file: imported (ordinary, then --bulk), then COPYed bare."""
    path = workdir / "bench-list.csv"
    phones = generate(path, rows)
    with _server(server_url) as server:
        online = _import(server, path, bulk=False)
        bulk = _import(server, path, bulk=True)
        copy_seconds = _bare_copy(server, path)
    return BenchResult(rows, phones, online, bulk, copy_seconds)
