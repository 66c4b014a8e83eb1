"""Password hashing with argon2id (argon2-cffi).

`PasswordHasher` has what `phonebank.accounts.service` expects (`verify`,
`dummy_verify`); the module-level functions use argon2-cffi's default settings
(RFC 9106 low-memory profile: argon2id, 64 MiB, 3 passes, 4 lanes).
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Hashes start with this; anything else in users.password_hash is not ours.
ARGON2_PREFIX = "$argon2"


class PasswordHasher:
    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        self._hasher = hasher or argon2.PasswordHasher()
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        if not password:
            raise ValueError("refusing to hash an empty password")
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True only when `password` matches; a damaged or foreign hash is a mismatch."""
        if not password_hash.startswith(ARGON2_PREFIX):
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def dummy_verify(self, password: str) -> None:
        """Spend the time of a real check, for a user that does not exist."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("phonebank: no such user")
        self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other settings than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


def hash_password(password: str) -> str:
    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    return PasswordHasher().verify(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return PasswordHasher().needs_rehash(password_hash)
