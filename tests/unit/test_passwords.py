"""argon2id password hashing."""

from __future__ import annotations

from typing import Literal

import argon2
import pytest

from phonebank.security.passwords import (
    PasswordHasher,
    hash_password,
    needs_rehash,
    verify_password,
)

# Cheap settings keep the unit tests fast; the defaults are exercised once below.
FAST = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_default_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "Correct horse")
    assert not needs_rehash(hashed)


def test_same_password_hashes_differently_each_time() -> None:
    hasher = PasswordHasher(FAST)
    assert hasher.hash("mot de passe") != hasher.hash("mot de passe")


def test_unicode_passwords() -> None:
    hasher = PasswordHasher(FAST)
    hashed = hasher.hash("Fête-à-Saint-Denis 🇷🇪")
    assert hasher.verify(hashed, "Fête-à-Saint-Denis 🇷🇪")
    assert not hasher.verify(hashed, "Fete-a-Saint-Denis 🇷🇪")


@pytest.mark.parametrize("damaged", ["", "plain text", "$argon2id$v=19$broken", "$2b$12$bcrypt"])
def test_damaged_or_foreign_hash_is_a_mismatch_not_a_crash(damaged: str) -> None:
    assert PasswordHasher(FAST).verify(damaged, "anything") is False


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty password"):
        PasswordHasher(FAST).hash("")


def test_hash_made_with_weaker_settings_needs_rehash() -> None:
    weak = PasswordHasher(FAST).hash("secret-123")
    assert needs_rehash(weak)
    assert not PasswordHasher(FAST).needs_rehash(weak)
    assert needs_rehash("not a hash")


class _CountingHasher(argon2.PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.checked.append(str(hash))
        return super().verify(hash, password)


def test_dummy_verify_does_a_real_check() -> None:
    counting = _CountingHasher()
    hasher = PasswordHasher(counting)
    hasher.dummy_verify("guess")
    hasher.dummy_verify("guess again")
    assert len(counting.checked) == 2
    assert counting.checked[0] == counting.checked[1]
    assert counting.checked[0].startswith("$argon2id$")
