"""A campaign's safe-harbor and voicemail recordings: an uploaded WAV, or text spoken.

Files are written as 8 kHz mono 16-bit WAV (what Asterisk plays as `.wav` without
transcoding) into `host_dir`; the campaign stores the path *as Asterisk sees it*,
without the extension (PHONEBANK_SAFE_HARBOR / PHONEBANK_VOICEMAIL, docs/telephony.md).
The two folders differ when Asterisk runs in the sandbox's chroot.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from phonebank.telephony.prompts import LANGUAGES, speak

KINDS = ("safe_harbor", "voicemail")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_SOX_TIMEOUT_S = 60


class RecordingError(ValueError):
    """The recording could not be made; `code` is stable for the page."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


def is_wav(head: bytes) -> bool:
    """A RIFF/WAVE header (what browsers and recorders write)."""
    return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"


@dataclass(frozen=True)
class RecordingStore:
    host_dir: Path
    asterisk_dir: str

    def _name(self, campaign_id: int, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown recording kind {kind!r}")
        return f"campaign-{campaign_id}-{kind.replace('_', '-')}"

    def file(self, campaign_id: int, kind: str) -> Path:
        return self.host_dir / f"{self._name(campaign_id, kind)}.wav"

    def stored_name(self, campaign_id: int, kind: str) -> str:
        """The column's value: Asterisk's path, no extension."""
        return f"{self.asterisk_dir.rstrip('/')}/{self._name(campaign_id, kind)}"

    def from_wav(self, campaign_id: int, kind: str, upload: Path) -> str:
        """Convert an uploaded WAV to Asterisk's format; RecordingError if it is not one."""
        with upload.open("rb") as handle:
            if not is_wav(handle.read(12)):
                raise RecordingError("not_wav")
        sox = shutil.which("sox")
        if sox is None:
            raise RecordingError("no_sox")
        out = self.file(campaign_id, kind)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp.wav")
        argv = [sox, str(upload), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
        result = subprocess.run(
            [*argv, str(tmp)], capture_output=True, text=True, check=False, timeout=_SOX_TIMEOUT_S
        )
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise RecordingError("unreadable_wav", result.stderr.strip())
        tmp.chmod(0o644)
        tmp.replace(out)
        return self.stored_name(campaign_id, kind)

    def from_text(self, campaign_id: int, kind: str, text: str, language: str) -> str:
        """Speak `text` with espeak-ng (phonebank.telephony.prompts)."""
        if language not in LANGUAGES:
            raise RecordingError("bad_language")
        try:
            speak(text, language, self.file(campaign_id, kind))
        except FileNotFoundError as exc:
            raise RecordingError("no_tts", str(exc)) from None
        except RuntimeError as exc:
            raise RecordingError("tts_failed", str(exc)) from None
        return self.stored_name(campaign_id, kind)

    def host_file(self, stored: str | None) -> Path | None:
        """The file on this machine behind a column's value, if it is one of ours."""
        if not stored:
            return None
        prefix = self.asterisk_dir.rstrip("/") + "/"
        if not stored.startswith(prefix):
            return None
        name = stored[len(prefix) :]
        if "/" in name or not name.startswith("campaign-"):
            return None
        path = self.host_dir / f"{name}.wav"
        return path if path.is_file() else None
