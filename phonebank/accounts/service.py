"""Logging in: password check, the login rate limit, and who is logged in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

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


class AccountRepo(Protocol):
    def by_username(self, username: str) -> Account | None: ...

    def by_id(self, user_id: int) -> Account | None: ...

    def record_login(self, user_id: int, new_password_hash: str | None) -> None: ...


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

    def current(self, user_id: int) -> Account | None:
        account = self._repo.by_id(user_id)
        return account if account is not None and account.active else None
