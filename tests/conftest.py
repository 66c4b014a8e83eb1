"""Shared fixtures: the real Asterisk sandbox and a throwaway PostgreSQL."""

pytest_plugins = [
    "tests.fixtures.asterisk",
    "tests.fixtures.postgres",
    "tests.fixtures.telephony",
]
