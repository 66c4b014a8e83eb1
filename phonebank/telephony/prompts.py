"""Phonebank's prompts, spoken by espeak-ng and made 8 kHz mono WAV by sox.

The dialplan plays `<prompts dir>/<language>/<name>` (extensions.conf
PHONEBANK_SOUNDS). A campaign may record its own and pass the path in a
channel variable; these are the defaults, and the simulated voters' voices.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("fr", "en")
# espeak-ng voice per language.
VOICES = {"fr": "fr", "en": "en-gb"}


@dataclass(frozen=True)
class PromptSettings:
    """Who is calling and the number to call back, said in the prompts."""

    organisation: str = ""
    callback_number: str = ""


def _spell_number(number: str) -> str:
    # "0612345678" is read digit by digit, in pairs as the French say numbers.
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def prompt_texts(settings: PromptSettings) -> dict[str, dict[str, str]]:
    """name -> language -> text (pure)."""
    org_fr = settings.organisation or "notre équipe de campagne"
    org_en = settings.organisation or "our campaign team"
    number = _spell_number(settings.callback_number)
    back_fr = f"le {number}" if number else "ce numéro"
    back_en = f"{number}" if number else "this number"
    return {
        "safe-harbor": {
            "fr": f"Bonjour, ici {org_fr}. Nous vous rappellerons plus tard. "
            f"Pour nous joindre ou ne plus être appelé, appelez {back_fr}. Au revoir.",
            "en": f"Hello, this is {org_en}. We will call you back later. "
            f"To reach us, or not to be called again, call {back_en}. Goodbye.",
        },
        "voicemail": {
            "fr": f"Bonjour, ici {org_fr}. Nous voulions vous parler de notre campagne. "
            f"Rappelez-nous au {number or 'numéro qui s’affiche'}. Merci et bonne journée.",
            "en": f"Hello, this is {org_en}. We wanted to talk to you about our campaign. "
            f"Please call us back on {number or 'the number shown'}. Thank you.",
        },
        "inbound-welcome": {
            "fr": f"Bonjour, vous avez été appelé par {org_fr}. "
            "Pour ne plus jamais être appelé, tapez 1. Pour parler à un bénévole, tapez 2.",
            "en": f"Hello, you were called by {org_en}. "
            "To never be called again, press 1. To talk to a volunteer, press 2.",
        },
        "optout-done": {
            "fr": "Votre numéro ne sera plus appelé. Au revoir.",
            "en": "Your number will not be called again. Goodbye.",
        },
        "optout-failed": {
            "fr": "Nous n'avons pas pu enregistrer votre demande. "
            "Merci de rappeler plus tard, ou d'écrire à l'équipe.",
            "en": "We could not record your request. Please call again later, "
            "or write to the team.",
        },
        "nobody-free": {
            "fr": "Aucun bénévole n'est libre pour le moment. Merci de rappeler plus tard.",
            "en": "No volunteer is free right now. Please call again later.",
        },
        # The simulated voters (sim-pstn): a person and an answering machine.
        "sim-hello": {"fr": "Allô ?", "en": "Hello?"},
        "sim-greeting": {
            "fr": "Bonjour, vous êtes bien sur la messagerie de Claire Martin. "
            "Je ne suis pas disponible pour le moment. Laissez-moi un message après "
            "le bip sonore et je vous rappellerai dès que possible. Merci et à bientôt.",
            "en": "Hello, you have reached the voicemail of Claire Martin. "
            "I cannot take your call right now. Please leave a message after the tone "
            "and I will call you back as soon as I can. Thank you, goodbye.",
        },
    }


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not installed (apt-get install {package})")
    return path


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}): {result.stderr.strip()}")


def speak(text: str, language: str, out: Path) -> None:
    """Write `text` spoken in `language` as an 8 kHz mono 16-bit WAV (Asterisk's slin)."""
    espeak = _tool("espeak-ng", "espeak-ng")
    sox = _tool("sox", "sox")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="phonebank-prompt-") as tmp:
        raw = Path(tmp) / "raw.wav"
        _run([espeak, "-v", VOICES[language], "-s", "150", "-w", str(raw), text], "espeak-ng")
        tmp_out = out.with_name(f".{out.name}.tmp.wav")
        _run(
            [
                sox,
                str(raw),
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(tmp_out),
            ],
            "sox",
        )
        tmp_out.chmod(0o644)
        tmp_out.replace(out)


def generate_prompts(
    out_dir: Path,
    settings: PromptSettings | None = None,
    *,
    languages: tuple[str, ...] = LANGUAGES,
    texts: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Path]:
    """Write <out_dir>/<language>/<name>.wav for every prompt; returns the files."""
    chosen = texts if texts is not None else prompt_texts(settings or PromptSettings())
    written: list[Path] = []
    for name, by_language in chosen.items():
        for language in languages:
            target = out_dir / language / f"{name}.wav"
            speak(by_language[language], language, target)
            written.append(target)
    for folder in {p.parent for p in written} | {out_dir}:
        folder.chmod(0o755)
    return written
