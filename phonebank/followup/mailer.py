"""E-mail: jinja2 templates, the message with its unsubscribe headers, and SMTP (aiosmtplib).

A template NAME is three files in a templates folder: `NAME.subject.j2`,
`NAME.txt.j2` and, optionally, `NAME.html.j2`. The folder set in
`[email] templates_dir` is searched first, then the built-in one.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import jinja2
import jinja2.meta

from phonebank.followup.errors import MailError, TemplateError

BUILTIN_TEMPLATES = Path(__file__).resolve().parent / "templates" / "email"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


class Templates:
    def __init__(self, extra_dir: Path | None = None) -> None:
        folders = [str(extra_dir)] if extra_dir else []
        folders.append(str(BUILTIN_TEMPLATES))
        loader = jinja2.FileSystemLoader(folders)
        self._text = jinja2.Environment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701  (plain-text e-mail: no HTML to escape)
            keep_trailing_newline=False,
        )
        self._html = jinja2.Environment(
            loader=loader, undefined=jinja2.StrictUndefined, autoescape=True
        )

    def names(self) -> list[str]:
        """Every template that has a subject and a text part, by name, sorted."""
        loader = self._text.loader
        assert loader is not None
        found = set(loader.list_templates())
        suffix = ".subject.j2"
        return sorted(
            n[: -len(suffix)]
            for n in found
            if n.endswith(suffix) and n[: -len(suffix)] + ".txt.j2" in found
        )

    def variables(self, name: str) -> set[str]:
        """The merge fields template `name` uses (subject, text and HTML), before any render."""
        found: set[str] = set()
        loader = self._text.loader
        assert loader is not None
        for part in ("subject", "txt", "html"):
            filename = f"{name}.{part}.j2"
            try:
                source, _, _ = loader.get_source(self._text, filename)
                found |= jinja2.meta.find_undeclared_variables(self._text.parse(source))
            except jinja2.TemplateNotFound:
                if part != "html":
                    raise TemplateError(f"e-mail template {filename} not found") from None
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"e-mail template {filename}, line {exc.lineno}: {exc}"
                ) from None
        return found

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Subject, text and HTML of template `name`; TemplateError says which file failed."""
        try:
            subject = self._text.get_template(f"{name}.subject.j2").render(context)
            text = self._text.get_template(f"{name}.txt.j2").render(context)
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"e-mail template {exc.name} not found") from None
        except jinja2.TemplateError as exc:
            where = f"{getattr(exc, 'filename', None) or name}, line {getattr(exc, 'lineno', '?')}"
            raise TemplateError(f"e-mail template {where}: {exc}") from None
        try:
            html: str | None = self._html.get_template(f"{name}.html.j2").render(context)
        except jinja2.TemplateNotFound:
            html = None
        except jinja2.TemplateError as exc:
            raise TemplateError(f"e-mail template {name}.html.j2: {exc}") from None
        # A subject is one line: a stray newline would end the header.
        return Rendered(" ".join(subject.split()), text, html)


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    unsubscribe: str,
    message_id_domain: str,
) -> EmailMessage:
    """The message with RFC 2369 / RFC 8058 one-click unsubscribe headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain=message_id_domain)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 30.0


class Mailer:
    """Sends one message per connection call; `MailError.permanent` for 5xx answers."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username or None,
                password=s.password or None,
                start_tls=s.starttls,
                timeout=s.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise MailError(
                f"{s.host}:{s.port} refused {first.recipient}: {first.code} {first.message}",
                permanent=first.code >= 500,
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise MailError(
                f"{s.host}:{s.port} answered {exc.code} {exc.message}", permanent=exc.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(f"cannot send through {s.host}:{s.port}: {exc}") from None
