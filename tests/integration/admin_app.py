"""The admin feature on a real database, with one logged-in account per role.

Sessions are signed cookies made here (phonebank.web.sessions), so a test can act as
any role without a login round trip; the accounts exist in the database, because
the admin pages record who did what.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from phonebank.accounts import routes as account_routes
from phonebank.accounts.repo import SqlAccountRepo
from phonebank.accounts.service import AccountService
from phonebank.admin import routes as admin_routes
from phonebank.admin.followup_parts import FollowUpScreens
from phonebank.admin.recordings import RecordingStore
from phonebank.campaigns.defaults import add_default_dispositions
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.enums import AttemptResult, AttemptState, Language, QuestionKind, Role
from phonebank.db.models import (
    CallAttempt,
    Campaign,
    Contact,
    Outcome,
    Script,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
)
from phonebank.db.users import create_user
from phonebank.followup.compose import Composer
from phonebank.followup.email_service import Unsubscribing
from phonebank.followup.mailer import Templates
from phonebank.health import routes as health_routes
from phonebank.health.service import HealthService
from phonebank.security.passwords import PasswordHasher
from phonebank.web.app import Feature, create_app
from phonebank.web.sessions import SESSION_COOKIE, csrf_token, encode_session, new_session

KEY = b"k" * 32
NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC, 09:00 in Paris
AT = datetime.fromtimestamp(NOW, UTC)
ROLES = ("volunteer", "supervisor", "admin")
# Cheap argon2 settings: the real ones cost tens of milliseconds per hash.
FAST_HASHER = PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

Client = TestClient[web.Request, web.Application]


class _Link:
    connected = True


def login_features(engine: Engine) -> list[Feature]:
    """The login pages and the status page, beside the admin feature."""
    accounts = AccountService(SqlAccountRepo(session_factory(engine)), FAST_HASHER, lambda: NOW)
    health = HealthService(lambda: None, _Link(), lambda: NOW)
    return [health_routes.setup(health), account_routes.setup(accounts)]


@dataclass
class AdminWorld:
    client: Client
    engine: Engine
    users: dict[str, int]
    work_dir: Path
    recordings: RecordingStore
    token: str = ""

    def act_as(self, role: str | None) -> None:
        """Send the next requests as this role's account (None: a stranger)."""
        jar = self.client.session.cookie_jar
        jar.clear()
        user = self.users.get(role or "", 0)
        session = new_session(NOW, user, role or "", "en", f"{role or 'nobody'}-name")
        jar.update_cookies({SESSION_COOKIE: encode_session(KEY, session)})
        self.token = csrf_token(KEY, session)

    async def csrf(self, path: str = "/admin") -> str:
        page = await (await self.client.get(path)).text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1)

    async def post(
        self, path: str, data: dict[str, str], *, page_path: str = "/admin"
    ) -> web.StreamResponse:
        token = await self.csrf(page_path)
        return await self.client.post(
            path, data={**data, "csrf_token": token}, allow_redirects=False
        )


def make_users(engine: Engine) -> dict[str, int]:
    ids = {}
    with session_factory(engine).begin() as session:
        for role in ROLES:
            user = create_user(
                session,
                f"{role}1",
                "password-1234",
                Role(role),
                language=Language.EN,
                hasher=FAST_HASHER,
            )
            session.flush()
            ids[role] = user.id
    return ids


@contextlib.asynccontextmanager
async def admin_world(
    url: str, tmp_path: Path, extra: Callable[[Engine], list[Feature]] | None = None
) -> AsyncIterator[AdminWorld]:
    """The admin feature (and the features `extra` builds on the same engine)."""
    engine = make_engine(url)
    users = make_users(engine)
    recordings = RecordingStore(tmp_path / "sounds", "/var/lib/asterisk/sounds/phonebank")
    feature = admin_routes.setup(
        engine=engine,
        clock=lambda: NOW,
        hasher=FAST_HASHER,
        recordings=recordings,
        work_dir=tmp_path / "admin-work",
        followup=FollowUpScreens(
            Composer(Templates(), Unsubscribing(KEY, "http://127.0.0.1/unsubscribe"))
        ),
    )
    app = create_app(
        secret_key=KEY, clock=lambda: NOW, features=[feature, *(extra(engine) if extra else [])]
    )
    try:
        async with TestClient(TestServer(app), headers={"Accept-Language": "en"}) as client:
            world = AdminWorld(client, engine, users, tmp_path / "admin-work", recordings)
            world.act_as("admin")
            yield world
    finally:
        engine.dispose()


def seed_calls(session: Session, volunteer: int) -> int:
    """A campaign with four calls by `volunteer` before NOW, outcomes and survey answers."""
    campaign = Campaign(name="Lyon 2027", time_zone="Europe/Paris")
    session.add(campaign)
    session.flush()
    codes = add_default_dispositions(session, campaign.id)
    script = Script(campaign_id=campaign.id, version=1, title="v1", active=True)
    question = SurveyQuestion(
        key="vote", position=0, kind=QuestionKind.SINGLE, prompt="Will you vote?"
    )
    yes = SurveyOption(value="yes", label="Yes", position=0)
    no = SurveyOption(value="no", label="No", position=1)
    question.options = [yes, no]
    script.questions = [question]
    session.add(script)
    session.flush()
    plan = [  # precinct, disposition, answer, minutes before AT, talk seconds
        ("0112", "strong_support", yes, 30, 120),
        ("0112", "undecided", no, 90, 60),
        ("0113", "strong_support", yes, 95, 30),
        ("0113", "not_home", None, 100, 0),
    ]
    for n, (precinct, code, answer, ago, talk) in enumerate(plan):
        contact = Contact(
            campaign_id=campaign.id, first_name=f"P{n}", last_name=f"Voter{n}", precinct=precinct
        )
        session.add(contact)
        session.flush()
        when = AT - timedelta(minutes=ago)
        attempt = CallAttempt(
            campaign_id=campaign.id,
            contact_id=contact.id,
            e164=f"+3361234567{n}",
            user_id=volunteer,
            engine_id="test",
            state=AttemptState.ENDED,
            result=AttemptResult.HUMAN if talk else AttemptResult.NO_ANSWER,
            created_at=when,
            bridged_at=when if talk else None,
            ended_at=when + timedelta(seconds=talk) if talk else None,
        )
        session.add(attempt)
        session.flush()
        outcome = Outcome(
            campaign_id=campaign.id,
            contact_id=contact.id,
            attempt_id=attempt.id,
            disposition_id=codes[code].id,
            recorded_by_id=volunteer,
            recorded_at=when + timedelta(seconds=talk + 5),
        )
        if answer is not None:
            outcome.answers = [SurveyAnswer(question_id=question.id, option_id=answer.id)]
        session.add(outcome)
    return campaign.id
