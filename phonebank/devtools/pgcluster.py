"""A throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary folder.

Used by the test fixtures and by benchmarks that need a real PostgreSQL. The
server listens on a free loopback port with its socket in the folder, runs
with durability off (fsync, synchronous_commit and full_page_writes off: the
data is thrown away), and the folder is removed by `stop()`. initdb refuses
to run as root, so as root the cluster runs as the `postgres` system user
(created by Debian's `postgresql` package).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

START_TIMEOUT_S = 60


class PgClusterError(RuntimeError):
    """The cluster could not be created or started; the message holds the server's log."""


def pg_bin_dir() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PgClusterError(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: "
            "run `apt-get install postgresql`"
        )
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PgCluster:
    """initdb + pg_ctl in a temporary folder, as `postgres` when we are root."""

    def __init__(self, extra_options: str = "") -> None:
        self.bin = pg_bin_dir()
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="phonebank-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self.extra_options = extra_options
        if self.as_root:
            shutil.chown(self.dir, user="postgres", group="postgres")

    def _run(self, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.dir, check=False
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise PgClusterError(
                f"{what} failed (exit {result.returncode}) in {self.dir}:\n"
                f"{result.stdout}\n{result.stderr}\n{log}"
            )

    def start(self) -> None:
        self._check(
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                timeout=120,
            ),
            "initdb",
        )
        # Durability off: a throwaway cluster, speed matters more.
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
            f"{self.extra_options}"
        ).strip()
        self._check(
            self._run(
                [
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "start",
                ],
                timeout=START_TIMEOUT_S + 30,
            ),
            "pg_ctl start",
        )

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"], timeout=60)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> URL:
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            host="127.0.0.1",
            port=self.port,
            database=database,
        )


def admin_execute(url: URL, statement: str) -> None:
    """Run a statement outside a transaction (CREATE/DROP DATABASE need that)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def running_cluster(extra_options: str = "") -> Iterator[PgCluster]:
    """A started cluster, stopped and removed on exit."""
    cluster = PgCluster(extra_options)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
