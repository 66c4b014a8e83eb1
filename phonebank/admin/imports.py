"""List files uploaded from the browser: kept on disk, previewed, imported in a thread.

An upload is a file in `<work_dir>/uploads` named by a random token, with its
original name beside it. An import runs `phonebank.lists.service.import_file` (the
same code as `phonebank import`) in a worker thread; the page polls the job's
status. Jobs live in memory: a restart forgets finished ones (the data stays
imported) and a restart during an import rolls it back (one transaction).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from phonebank.lists.errors import ListError
from phonebank.lists.headers import map_headers
from phonebank.lists.reader import open_list
from phonebank.lists.rejects import CsvRejects
from phonebank.lists.service import ImportOptions, import_file

PREVIEW_ROWS = 5
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")


class UploadError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path
    filename: str
    size: int


class Uploads:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, filename: str, source: IO[bytes]) -> Upload:
        """Copy an uploaded file to disk; UploadError('empty' | 'too_big')."""
        self.folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(12)
        path = self.folder / f"{token}.upload"
        size = 0
        with path.open("wb") as out:
            while chunk := source.read(256 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    break
                out.write(chunk)
        if size == 0 or size > MAX_UPLOAD_BYTES:
            path.unlink(missing_ok=True)
            raise UploadError("empty" if size == 0 else "too_big")
        name = Path(filename or "list").name[:128]
        meta = {"filename": name, "size": size}
        (self.folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
        return Upload(token, path, name, size)

    def get(self, token: str) -> Upload | None:
        if not _TOKEN.fullmatch(token):
            return None
        path = self.folder / f"{token}.upload"
        meta_path = self.folder / f"{token}.json"
        if not path.is_file() or not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return Upload(token, path, str(meta["filename"]), int(meta["size"]))

    def remove(self, upload: Upload) -> None:
        upload.path.unlink(missing_ok=True)
        (self.folder / f"{upload.token}.json").unlink(missing_ok=True)


@dataclass
class Preview:
    kind: str
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[list[str]]
    guessed: dict[str, str]


def preview(path: Path) -> Preview:
    """The header, the first rows and the guessed mapping; ListFileError if unreadable."""
    with open_list(path) as opened:
        rows = []
        for row in opened.rows:
            rows.append([row.values.get(h, "") for h in opened.headers])
            if len(rows) >= PREVIEW_ROWS:
                break
        mapping = map_headers(opened.headers)
        return Preview(
            opened.kind, opened.encoding, opened.delimiter, opened.headers, rows, mapping.fields
        )


@dataclass
class ImportJob:
    id: str
    filename: str
    campaign: str
    list_name: str | None
    started_by: str
    started_at: float
    state: str = "running"  # running, done, failed
    rows: int = 0
    fraction: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    rejects: Path | None = None
    rejected: int = 0

    def status(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "rows": self.rows,
            "fraction": round(self.fraction, 4),
            "summary": self.summary,
            "error": self.error,
            "rejected": self.rejected,
        }


class ImportJobs:
    """Running and finished imports; each runs in a worker thread."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self._engine = engine
        self._folder = folder
        self._jobs: dict[str, ImportJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> ImportJob | None:
        return self._jobs.get(job_id)

    def recent(self, limit: int = 10) -> list[ImportJob]:
        return sorted(self._jobs.values(), key=lambda j: -j.started_at)[:limit]

    def start(
        self, upload: Upload, options: ImportOptions, started_by: str, now: float
    ) -> ImportJob:
        job_id = secrets.token_urlsafe(9)
        job = ImportJob(
            job_id, upload.filename, options.campaign, options.list_name, started_by, now
        )
        self._jobs[job_id] = job
        task = asyncio.get_running_loop().create_task(
            asyncio.to_thread(self._run, job, upload, options)
        )
        # Keep a reference: the loop holds tasks weakly.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def wait(self) -> None:
        """Until every running import has finished (tests, and a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _run(self, job: ImportJob, upload: Upload, options: ImportOptions) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        rejects_path = self._folder / f"{job.id}.rejects.csv"

        def progress(rows: int, fraction: float) -> None:
            job.rows, job.fraction = rows, fraction

        try:
            with CsvRejects(rejects_path) as rejects:
                summary = import_file(self._engine, upload.path, options, rejects, progress)
            job.rejected = rejects.count
            job.rejects = rejects_path if rejects.count else None
            data = summary.to_json()
            # The page shows counts; the reject report holds the rows themselves.
            data.pop("rejected", None)
            data["warnings"] = len(data.get("warnings", []))
            data.pop("file", None)
            job.summary = data
            job.rows, job.fraction, job.state = summary.rows, 1.0, "done"
        except ListError as exc:
            rejects_path.unlink(missing_ok=True)
            job.error, job.state = str(exc).replace(str(upload.path), upload.filename), "failed"
        except Exception as exc:  # the page must say it failed, not spin for ever
            rejects_path.unlink(missing_ok=True)
            job.error, job.state = f"{type(exc).__name__}: {exc}", "failed"
        finally:
            # Imported or not, the uploaded copy has done its work.
            upload.path.unlink(missing_ok=True)
            upload.path.with_suffix(".json").unlink(missing_ok=True)
