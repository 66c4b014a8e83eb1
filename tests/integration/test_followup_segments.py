"""Segments, segment sends and triggers on PostgreSQL and SQLite."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from phonebank.db.enums import (
    ConsentChannel,
    FollowUpChannel,
)
from phonebank.db.models import (
    Campaign,
    Consent,
    DoNotCallEntry,
)
from phonebank.db.models.followup import MessageState
from phonebank.followup import repo, sends
from phonebank.followup.audience import evaluate
from phonebank.followup.compose import Composer
from phonebank.followup.email_service import Unsubscribing
from phonebank.followup.mailer import Templates
from phonebank.followup.merge import MergeFieldError
from phonebank.followup.policy_store import rules_of
from phonebank.followup.rules import parse_local
from phonebank.followup.scheduler import run_due
from phonebank.followup.segments import parse_segment
from tests.fixtures.followup_world import T0, World, build_world

COMPOSER = Composer(Templates(), Unsubscribing(b"k" * 32, "https://pb.example.org/unsubscribe"))


@pytest.fixture
def world(migrated_engine: Engine) -> World:
    return build_world(migrated_engine)


def _evaluate(
    world: World, channel: FollowUpChannel, *where: str
) -> tuple[list[str], dict[str, int]]:
    with world.sessions() as session:
        campaign = session.get(Campaign, world.campaign_id)
        assert campaign is not None
        audience = evaluate(
            session, campaign.id, parse_segment(where), channel, rules_of(campaign), T0.date()
        )
    return [world.name_of(r.contact_id) for r in audience.recipients], dict(audience.excluded)


def test_segment_conditions_and_exclusions(world: World) -> None:
    names, excluded = _evaluate(world, FollowUpChannel.SMS, "support=undecided", "city=paris")
    assert names == ["Alice", "Denis", "Emma"]
    assert excluded == {"duplicate": 1}  # Fanny shares Alice's mobile
    # A fixed line takes no SMS; e-mail needs an address.
    assert _evaluate(world, FollowUpChannel.SMS, "city=saint etienne") == ([], {"no_mobile": 1})
    names, excluded = _evaluate(world, FollowUpChannel.EMAIL, "precinct=0112")
    assert (names, excluded) == (["Alice", "Emma"], {"no_email": 2})
    assert _evaluate(world, FollowUpChannel.SMS, "tag=benevole")[0] == ["Denis"]

    # STOP, do-not-call, refused and missing consent each leave a person out.
    with world.sessions() as session:
        repo.suppress(session, FollowUpChannel.SMS, "+33655555555", "sms-stop", T0)
        session.add(DoNotCallEntry(e164="+33644444444", source="manual"))
        session.commit()
    world.consent("Bruno", ConsentChannel.SMS, False, T0 - timedelta(days=1))
    names, excluded = _evaluate(world, FollowUpChannel.SMS, "city=paris")
    assert names == ["Alice"]
    assert excluded == {"opted_out": 1, "do_not_call": 1, "refused": 1, "duplicate": 1}
    # A campaign may send to the do-not-call list and without consent if its rules say so.
    world.rules({"require_consent": [], "dnc_blocks_sms": False})
    with world.sessions() as session:
        session.query(Consent).where(Consent.contact_id == world.ids["Alice"]).delete()
        session.commit()
    names, excluded = _evaluate(world, FollowUpChannel.SMS, "city=paris")
    assert names == ["Alice", "Denis"]
    # ... but `consent` in the segment still asks for it.
    assert "Alice" not in _evaluate(world, FollowUpChannel.SMS, "city=paris", "consent")[0]


def test_segment_by_latest_outcome(world: World) -> None:
    world.outcome("Alice", "undecided", T0 - timedelta(days=2))
    world.outcome("Alice", "strong_support", T0 - timedelta(days=1))
    world.outcome("Emma", "undecided", T0 - timedelta(days=1))
    assert _evaluate(world, FollowUpChannel.SMS, "outcome=undecided")[0] == ["Emma"]
    assert _evaluate(world, FollowUpChannel.SMS, "disposition=strong_support")[0] == ["Alice"]


def test_send_now_is_idempotent_and_personalised(world: World) -> None:
    spec = sends.SendSpec(
        "Municipales",
        FollowUpChannel.SMS,
        ("support=undecided", "city=paris"),
        "Bonjour {first_name}, rendez-vous bureau {precinct} ({campaign}) {place}",
        {"place": "à la Mairie"},
    )
    with world.sessions() as session:
        preview = sends.prepare(session, spec, COMPOSER, T0)
        assert preview.to_json()["recipients"] == 3
        assert preview.samples[0] == (
            "+33611111111",
            "Bonjour Alice, rendez-vous bureau 0112 (Municipales) à la Mairie",
        )
        assert world.messages() == []  # a dry run queues nothing
        plan, created = sends.create(session, spec, COMPOSER, T0)
        assert created
        again, created = sends.create(session, spec, COMPOSER, T0)
        assert (again.id, created) == (plan.id, False)
        plan_id = plan.id
        claimed = sends.claim_due(session, T0, "w1")
        assert claimed is not None and claimed.id == plan_id
        first = sends.expand(session, claimed, COMPOSER, T0)
        assert (first.queued, first.already) == (3, 0)
        # A second evaluation (a crash after queueing, lease run out) adds nobody twice.
        second = sends.expand(session, claimed, COMPOSER, T0)
        assert (second.queued, second.already) == (0, 3)
    texts = sorted(m.body for m in world.messages("segment"))
    assert texts[0] == "Bonjour Alice, rendez-vous bureau 0112 (Municipales) à la Mairie"
    assert len(texts) == 3
    with world.sessions() as session:
        # Workers never pick up the send itself.
        assert repo.claim(session, FollowUpChannel.SMS, "w", T0, timedelta(minutes=5)) is not None
        assert repo.counts(session, FollowUpChannel.SMS) == {"queued": 2, "sending": 1}


def test_unknown_merge_field_is_named_before_anything_is_queued(world: World) -> None:
    spec = sends.SendSpec(
        "Municipales", FollowUpChannel.SMS, ("city=paris",), "Bonjour {prenom} {first_name}"
    )
    with world.sessions() as session, pytest.raises(MergeFieldError, match=r"\{prenom\}"):
        sends.create(session, spec, COMPOSER, T0)
    email = sends.SendSpec("Municipales", FollowUpChannel.EMAIL, ("city=paris",), "thanks")
    with world.sessions() as session:
        sends.create(session, email, COMPOSER, T0)
    assert world.messages() == []


def test_scheduled_send_is_evaluated_when_due_and_can_be_cancelled(world: World) -> None:
    at = parse_local("2026-11-30 18:00", "Europe/Paris")
    assert at == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    spec = sends.SendSpec("Municipales", FollowUpChannel.EMAIL, ("city=paris",), "thanks", at=at)
    other = sends.SendSpec("Municipales", FollowUpChannel.SMS, ("city=paris",), "Meeting", at=at)
    with world.sessions() as session:
        plan, _ = sends.create(session, spec, COMPOSER, T0)
        cancelled, _ = sends.create(session, other, COMPOSER, T0)
        assert sends.cancel(session, cancelled.id, T0, "admin") == 0
        listed = {s.id: s.shown_state for s in sends.listing(session)}
        assert listed == {plan.id: "scheduled", cancelled.id: "cancelled"}
        assert run_due(session, at - timedelta(minutes=1), COMPOSER).sends == []
    # Bruno says yes to e-mail in between: the send sees him because it is evaluated when due.
    world.outcome("Bruno", "strong_support", T0)
    with world.sessions() as session:
        report = run_due(session, at, COMPOSER)
    assert [s.queued for s in report.sends] == [3]  # Alice, Bruno, Emma have addresses
    assert {m.recipient for m in world.messages("segment")} == {
        "alice@ex.org",
        "b@ex.org",
        "emma@ex.org",
    }
    with world.sessions() as session:
        (info,) = [s for s in sends.listing(session) if s.id == plan.id]
        assert info.shown_state == "queued" and info.messages == {"queued": 3}
        assert json.dumps(info.to_json())


def test_triggers_fire_once_per_contact_with_consent(world: World) -> None:
    world.rules(
        {
            "triggers": [
                {"id": "thanks", "outcome": ["supporter"], "email": "thanks"},
                {
                    "id": "j-2",
                    "outcome": ["undecided"],
                    "days_before_election": 2,
                    "time": "18:00",
                    "sms": "Bonjour {first_name}, on vote dimanche !",
                },
            ]
        },
        now=T0 - timedelta(hours=1),
    )
    world.outcome("Bruno", "strong_support", T0)
    world.outcome("Alice", "lean_support", T0)
    world.outcome("Emma", "undecided", T0)
    world.outcome("Denis", "undecided", T0)
    world.consent("Alice", ConsentChannel.EMAIL, False, T0)  # asked for no e-mail
    with world.sessions() as session:
        first = run_due(session, T0 + timedelta(minutes=1), COMPOSER)
        again = run_due(session, T0 + timedelta(minutes=2), COMPOSER)
    assert [m.recipient for m in world.messages("outcome")] == ["b@ex.org"]
    assert first.errors == [] and again.queued == 0
    # Two days before election day (6 December), 18:00 Paris time: the undecided get a text.
    due = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    with world.sessions() as session:
        assert run_due(session, due - timedelta(minutes=1), COMPOSER).queued == 0
        # Denis changed his mind before the reminder: only latest outcomes count.
    world.outcome("Denis", "strong_support", T0 + timedelta(days=1))
    with world.sessions() as session:
        run_due(session, due, COMPOSER)
        run_due(session, due + timedelta(hours=1), COMPOSER)
    reminders = world.messages("reminder")
    assert [(m.recipient, m.body) for m in reminders] == [
        ("+33655555555", "Bonjour Emma, on vote dimanche !")
    ]
    # Denis's own thanks went out once, when he became a supporter (he has no e-mail).
    assert [m.recipient for m in world.messages("outcome")] == ["b@ex.org"]


def test_trigger_waits_for_consent_and_leaves_old_outcomes_alone(world: World) -> None:
    world.outcome("Emma", "strong_support", T0 - timedelta(days=1))  # before the rule
    world.rules(
        {"triggers": [{"id": "thanks", "outcome": ["supporter"], "email": "thanks"}]}, now=T0
    )
    with world.sessions() as session:
        session.query(Consent).where(Consent.contact_id == world.ids["Bruno"]).delete()
        session.commit()
    world.outcome("Bruno", "strong_support", T0 + timedelta(minutes=1))
    with world.sessions() as session:
        report = run_due(session, T0 + timedelta(minutes=2), COMPOSER)
    assert report.fired[0].excluded == {"no_consent": 1}
    assert world.messages("outcome") == []
    world.consent("Bruno", ConsentChannel.EMAIL, True, T0 + timedelta(minutes=3))
    with world.sessions() as session:
        run_due(session, T0 + timedelta(minutes=4), COMPOSER)
    assert [m.recipient for m in world.messages("outcome")] == ["b@ex.org"]
    assert all(m.state is MessageState.QUEUED for m in world.messages("outcome"))
