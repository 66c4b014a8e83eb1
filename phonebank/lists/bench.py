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
class BenchResult:
    rows: int
    phones: int
    import_seconds: float
    copy_seconds: float
    peak_rss_mb_before: float
    peak_rss_mb_after: float
    summary: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        import_rate = self.rows / self.import_seconds
        copy_rate = self.rows / self.copy_seconds
        return {
            "rows": self.rows,
            "phones": self.phones,
            "import_seconds": round(self.import_seconds, 3),
            "import_rows_per_s": round(import_rate),
            "copy_seconds": round(self.copy_seconds, 3),
            "copy_rows_per_s": round(copy_rate),
            "import_to_copy_ratio": round(import_rate / copy_rate, 4),
            "peak_rss_mb_before_import": round(self.peak_rss_mb_before, 1),
            "peak_rss_mb_after_import": round(self.peak_rss_mb_after, 1),
            "target_rows_per_s": 30_000,
            "contacts_created": self.summary["contacts_created"],
            "phones_valid": self.summary["phones_valid"],
            "rejected": len(self.summary["rejected"]),
        }


def run(rows: int, workdir: Path, server_url: URL | None = None) -> BenchResult:
    path = workdir / "bench-list.csv"
    phones = generate(path, rows)
    with _server(server_url) as server:
        name = f"phonebank_bench_{uuid.uuid4().hex[:8]}"
        admin_execute(server, f'CREATE DATABASE "{name}"')
        try:
            url = server.set(database=name)
            upgrade(url)
            engine = make_engine(url)
            try:
                before = _peak_rss_mb()
                started = time.perf_counter()
                summary = import_file(engine, path, ImportOptions("bench", create_campaign=True))
                import_seconds = time.perf_counter() - started
                after = _peak_rss_mb()
            finally:
                engine.dispose()
            copy_seconds = _copy(url, path)
        finally:
            admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return BenchResult(rows, phones, import_seconds, copy_seconds, before, after, summary.to_json())
