"""Demo data for `phonebank up --demo`: three accounts, stations and a small campaign.

Runs at every demo start: the accounts get new random passwords (printed once), the
rest is created only when missing, so what a visitor recorded in the demo stays.
The phone numbers are in the ranges the French regulator (ARCEP) reserves for fiction.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.campaigns.defaults import DEFAULT_DISPOSITIONS
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.enums import DialMode, PhoneType, Role, SupportLevel
from phonebank.db.models import (
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    Disposition,
    PhoneNumber,
    Station,
    User,
)
from phonebank.security.passwords import hash_password

DEMO_CAMPAIGN = "Démo — Municipales 2027"
DEMO_ORGANISATION = "Demo 2027"
DEMO_CALLBACK_NUMBER = "+33465710000"
DEMO_USERS = (
    (Role.ADMIN, "admin", "Admin Démo"),
    (Role.SUPERVISOR, "supervisor", "Superviseure Démo"),
    (Role.VOLUNTEER, "volunteer", "Bénévole Démo"),
)
STATIONS = 15

# (first name, last name, city, postal code, precinct, support, number as people write it)
_CONTACTS = (
    ("Élodie", "Martin", "Lyon", "69003", "0312", SupportLevel.UNDECIDED, "06 39 98 00 01"),
    ("Karim", "Benali", "Lyon", "69007", "0704", SupportLevel.UNKNOWN, "06 39 98 00 02"),
    (
        "Jeanne",
        "Dupont",
        "Villeurbanne",
        "69100",
        "0021",
        SupportLevel.LEAN_SUPPORTER,
        "04 65 71 00 03",
    ),
    ("Thomas", "Nguyen", "Lyon", "69008", "0810", SupportLevel.UNDECIDED, "06 39 98 00 04"),
    ("Chloé", "Lefèvre", "Vénissieux", "69200", "0105", SupportLevel.UNKNOWN, "04 65 71 00 05"),
    ("Mamadou", "Diallo", "Lyon", "69009", "0902", SupportLevel.UNDECIDED, "06 39 98 00 06"),
    ("Sophie", "Moreau", "Bron", "69500", "0007", SupportLevel.LEAN_OPPOSED, "04 65 71 00 07"),
    ("Lucas", "Girard", "Lyon", "69001", "0101", SupportLevel.UNKNOWN, "06 39 98 00 08"),
)


def _e164(national: str) -> str:
    return "+33" + national.replace(" ", "")[1:]


def _reset_users(session: Session) -> list[tuple[str, str, str]]:
    logins = []
    for role, username, display in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            user = User(username=username, display_name=display, role=role, password_hash="")
            session.add(user)
        user.password_hash = hash_password(password)
        user.active = True
        logins.append((str(role.value), username, password))
    return logins


def _ensure_stations(session: Session) -> None:
    existing = set(session.scalars(select(Station.number)))
    for n in range(1, STATIONS + 1):
        if str(n) not in existing:
            session.add(Station(number=str(n), channel=f"DAHDI/{n}", label=f"Poste {n}"))


def _ensure_campaign(session: Session) -> None:
    if session.scalars(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN)).first() is not None:
        return
    campaign = Campaign(
        name=DEMO_CAMPAIGN,
        description="Campagne de démonstration : appels aux électeurs indécis.",
        briefing="Présentez-vous, demandez si la personne a 2 minutes, suivez le script.",
        dial_mode=DialMode.PREDICTIVE,
        caller_id=DEMO_CALLBACK_NUMBER,
        caller_id_name=DEMO_ORGANISATION,
        election_date=date(2027, 3, 14),
    )
    session.add(campaign)
    session.flush()  # the contacts need the campaign's id
    for position, d in enumerate(DEFAULT_DISPOSITIONS):
        session.add(
            Disposition(
                campaign=campaign,
                code=d.code,
                label=d.label,
                category=d.category,
                shortcut_key=d.key,
                position=position,
                recycle_action=d.recycle,
                retry_delay_minutes=d.retry_minutes,
                adds_to_dnc=d.adds_to_dnc,
                follow_up=d.follow_up,
            )
        )
    call_list = CallList(campaign=campaign, name="Indécis Lyon")
    session.add(call_list)
    for first, last, city, postal, precinct, support, raw in _CONTACTS:
        contact = Contact(
            campaign_id=campaign.id,
            first_name=first,
            last_name=last,
            city=city,
            postal_code=postal,
            country="FR",
            precinct=precinct,
            support_level=support,
            source="demo",
        )
        kind = PhoneType.MOBILE if raw.startswith(("06", "07")) else PhoneType.FIXED
        contact.phones.append(
            PhoneNumber(e164=_e164(raw), raw=raw, type=kind, country="FR", time_zone="Europe/Paris")
        )
        session.add(contact)
        session.add(CallListEntry(call_list=call_list, contact=contact))


def seed_demo(database_url: str) -> list[tuple[str, str, str]]:
    """Create the demo data; return (role, username, password) of each demo account."""
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            logins = _reset_users(session)
            _ensure_stations(session)
            _ensure_campaign(session)
        return logins
    finally:
        engine.dispose()
