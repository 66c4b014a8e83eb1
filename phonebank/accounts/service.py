"""Logging in: password check, the login rate limit, and who is logged in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from phonebank.accounts.codes import (
    CodeWindow,
    clean_volunteer_name,
    code_usable,
    guest_username,
    normalize_code,
)
from phonebank.web.ratelimit import AttemptLimiter


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    language: str
    active: bool
    password_hash: str


@dataclass(frozen=True)
class AccessCodeInfo:
    id: int
    role: str
    window: CodeWindow


class AccountRepo(Protocol):
    def by_username(self, username: str) -> Account | None: ...

    def by_id(self, user_id: int) -> Account | None: ...

    def record_login(self, user_id: int, new_password_hash: str | None) -> None: ...

    def access_code(self, code: str) -> AccessCodeInfo | None: ...

    def guest_account(self, code: AccessCodeInfo, username: str, display_name: str) -> Account: ...


class PasswordHasher(Protocol):
    def verify(self, password_hash: str, password: str) -> bool: ...

    def dummy_verify(self, password: str) -> None: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    def hash(self, password: str) -> str: ...


class LoginError(Exception):
    """A refused login; `code` is stable for the web layer and translations."""

    def __init__(self, code: str, retry_after: float = 0.0) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


class AccountService:
    def __init__(
        self,
        repo: AccountRepo,
        hasher: PasswordHasher,
        clock: Callable[[], float],
        limiter: AttemptLimiter | None = None,
    ) -> None:
        self._repo = repo
        self._hasher = hasher
        self._clock = clock
        self._limiter = limiter or AttemptLimiter()

    def login(self, username: str, password: str, client: str) -> Account:
        """Return the account, or raise LoginError('rate_limited' | 'bad_credentials')."""
        now = self._clock()
        username = username.strip().lower()
        keys = (f"ip:{client}", f"user:{username}")
        wait = max(self._limiter.blocked_for(key, now) for key in keys)
        if wait > 0:
            raise LoginError("rate_limited", retry_after=wait)
        account = self._repo.by_username(username) if username else None
        if account is None:
            # Spend the same time as a real check so timing does not reveal who exists.
            self._hasher.dummy_verify(password)
            ok = False
        else:
            ok = account.active and self._hasher.verify(account.password_hash, password)
        if not ok or account is None:
            for key in keys:
                self._limiter.record_failure(key, now)
            raise LoginError("bad_credentials")
        for key in keys:
            self._limiter.reset(key)
        # The password is at hand only now: upgrade a hash made with older cost settings.
        rehash = (
            self._hasher.hash(password)
            if self._hasher.needs_rehash(account.password_hash)
            else None
        )
        self._repo.record_login(account.id, rehash)
        return account

    def login_with_code(self, typed_code: str, typed_name: str, client: str) -> Account:
        """The volunteer's own account under a daily code, created at the first login.

        Raises LoginError('rate_limited' | 'bad_code' | 'bad_name').
        """
        now = self._clock()
        key = f"ip:{client}"
        wait = self._limiter.blocked_for(key, now)
        if wait > 0:
            raise LoginError("rate_limited", retry_after=wait)
        try:
            name = clean_volunteer_name(typed_name)
        except ValueError:
            raise LoginError("bad_name") from None
        code = self._repo.access_code(normalize_code(typed_code))
        if code is None or not code_usable(code.window, datetime.fromtimestamp(now, UTC)):
            self._limiter.record_failure(key, now)
            raise LoginError("bad_code")
        account = self._repo.guest_account(code, guest_username(code.id, name), name)
        if not account.active:
            raise LoginError("bad_code")
        self._repo.record_login(account.id, None)
        return account

    def current(self, user_id: int) -> Account | None:
        account = self._repo.by_id(user_id)
        return account if account is not None and account.active else None
