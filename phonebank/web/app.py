"""The aiohttp application: templates, security middleware and the feature routes.

`create_app` only wires what it is given; the composition root
(`phonebank.service`) builds the parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import jinja2
from aiohttp import web

from phonebank.resources import resource_dir
from phonebank.web.accounts_check import AccountRoles
from phonebank.web.i18n import LANGUAGE_NAMES, LANGUAGES, choose_language, load_translations
from phonebank.web.security import SECURITY, SecuritySettings, current_session, security_middleware
from phonebank.web.sessions import csrf_token

# A feature registers its routes (and reads its own AppKeys) on the application.
Feature = Callable[[web.Application], None]

SESSION_MAX_AGE = 12 * 3600.0  # one long campaign evening


# One template environment per language, each with its own gettext installed.
TEMPLATES = web.AppKey("templates", dict[str, jinja2.Environment])
LANGUAGE_COOKIE = "phonebank_lang"


def request_language(request: web.Request) -> str:
    """A language picked on the page, else the account's, else the browser's."""
    asked = request.query.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    preferred = asked if asked in LANGUAGES else current_session(request).language
    return choose_language(preferred, request.headers.get("Accept-Language", ""))


def render(
    request: web.Request, name: str, context: Mapping[str, object], *, status: int = 200
) -> web.Response:
    """Render a page with what every page needs: session, CSRF token, language."""
    settings = request.app[SECURITY]
    session = current_session(request)
    language = request_language(request)
    full = {
        "session": session,
        "csrf_token": csrf_token(settings.key, session),
        "lang": language,
        "languages": LANGUAGE_NAMES,
        "request_path": request.path,
        **context,
    }
    html = request.app[TEMPLATES][language].get_template(name).render(full)
    response = web.Response(text=html, status=status, content_type="text/html")
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, httponly=True, samesite="Lax"
        )
    return response


def _environments(root: Path) -> dict[str, jinja2.Environment]:
    environments = {}
    for language, translations in load_translations(root / "translations").items():
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(root / "templates"),
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        environments[language] = env
    return environments


def create_app(
    *,
    secret_key: bytes,
    clock: Callable[[], float],
    features: Iterable[Feature],
    secure_cookies: bool = False,
    web_dir: Path | None = None,
    roles: AccountRoles | None = None,
) -> web.Application:
    """The web app; `roles` checks each logged-in request against the account as it is
    now (the service always passes it; page tests may leave the cookie trusted)."""
    app = web.Application(middlewares=[security_middleware], client_max_size=8 * 1024 * 1024)
    app[SECURITY] = SecuritySettings(
        key=secret_key,
        max_age=SESSION_MAX_AGE,
        secure_cookies=secure_cookies,
        clock=clock,
        roles=roles,
    )
    root = web_dir or resource_dir("web")
    app[TEMPLATES] = _environments(root)
    app.router.add_static("/static/", root / "static", name="static")
    for feature in features:
        feature(app)
    return app
