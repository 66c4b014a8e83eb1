"""The aiohttp application: templates, security middleware and the feature routes.

`create_app` only wires what it is given; the composition root
(`phonebank.service`) builds the parts.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import jinja2
from aiohttp import web

from phonebank.resources import resource_dir
from phonebank.web.security import SECURITY, SecuritySettings, current_session, security_middleware
from phonebank.web.sessions import csrf_token

# A feature registers its routes (and reads its own AppKeys) on the application.
Feature = Callable[[web.Application], None]

SESSION_MAX_AGE = 12 * 3600.0  # one long campaign evening


TEMPLATES = web.AppKey("templates", jinja2.Environment)


def render(
    request: web.Request, name: str, context: Mapping[str, object], *, status: int = 200
) -> web.Response:
    """Render a page with what every page needs: the session and its CSRF token."""
    settings = request.app[SECURITY]
    session = current_session(request)
    full = {"session": session, "csrf_token": csrf_token(settings.key, session), **context}
    html = request.app[TEMPLATES].get_template(name).render(full)
    return web.Response(text=html, status=status, content_type="text/html")


def create_app(
    *,
    secret_key: bytes,
    clock: Callable[[], float],
    features: Iterable[Feature],
    secure_cookies: bool = False,
    web_dir: Path | None = None,
) -> web.Application:
    app = web.Application(middlewares=[security_middleware], client_max_size=8 * 1024 * 1024)
    app[SECURITY] = SecuritySettings(
        key=secret_key, max_age=SESSION_MAX_AGE, secure_cookies=secure_cookies, clock=clock
    )
    root = web_dir or resource_dir("web")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root / "templates"),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    app[TEMPLATES] = env
    # Translations arrive with the volunteer screen's issue; until then strings are English.
    env.install_gettext_translations(gettext.NullTranslations(), newstyle=True)  # type: ignore[attr-defined]
    app.router.add_static("/static/", root / "static", name="static")
    for feature in features:
        feature(app)
    return app
