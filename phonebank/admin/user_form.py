"""Account forms (pure): a new account, a changed one, a new password."""

from __future__ import annotations

from dataclasses import dataclass, replace

from phonebank.admin import messages as m
from phonebank.admin.forms import Form
from phonebank.db.enums import Language, Role
from phonebank.db.users import UserError, validate_username

MIN_PASSWORD_LENGTH = 8  # as `phonebank user add`


@dataclass(frozen=True)
class AccountValues:
    display_name: str
    role: Role
    language: Language
    active: bool


def _password(form: Form) -> str:
    password = form.values.get("password", "")
    if len(password) < MIN_PASSWORD_LENGTH:
        form.fail("password", m.PASSWORD_SHORT)
    elif password != form.values.get("password2", ""):
        form.fail("password2", m.PASSWORDS_DIFFER)
    return password


def _account(form: Form) -> AccountValues | None:
    display = form.text("display_name", max_length=128)
    role = form.choice("role", [r.value for r in Role])
    language = form.choice("language", [x.value for x in Language])
    if not form.ok:
        return None
    return AccountValues(display, Role(role), Language(language), form.checkbox("active"))


def parse_new_user(
    values: dict[str, str],
) -> tuple[tuple[str, str, AccountValues] | None, dict[str, str]]:
    """(username, password, account) or the errors; passwords are never shown back."""
    form = Form(values)
    try:
        username = validate_username(form.raw("username"))
    except UserError:
        form.fail("username", m.BAD_USERNAME)
        username = ""
    account = _account(form)
    password = _password(form)
    if not form.ok or account is None:
        return None, form.errors
    return (username, password, replace(account, active=True)), {}


def parse_user_change(
    values: dict[str, str], *, editing_self: bool
) -> tuple[AccountValues | None, dict[str, str]]:
    form = Form(values)
    account = _account(form)
    if account is not None and editing_self:
        if account.role is not Role.ADMIN:
            form.fail("role", m.NOT_YOURSELF)
        if not account.active:
            form.fail("active", m.NOT_YOURSELF)
    return (account if form.ok else None), form.errors


def parse_password(values: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    form = Form(values)
    password = _password(form)
    return (password if form.ok else None), form.errors
