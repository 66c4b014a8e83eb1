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

from phonebank.campaigns.defaults import add_default_dispositions
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.enums import CampaignStatus, DialMode, PhoneType, Role, SupportLevel
from phonebank.db.models import (
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    PhoneNumber,
    Station,
    User,
)
from phonebank.security.passwords import hash_password
from phonebank.volunteer.sample import ensure_sample_script

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


_FIRST = (
    "Camille",
    "Léa",
    "Hugo",
    "Inès",
    "Nathan",
    "Manon",
    "Yanis",
    "Zoé",
    "Louis",
    "Sarah",
    "Adam",
    "Jade",
    "Paul",
    "Lina",
    "Théo",
    "Emma",
    "Rayan",
    "Alice",
    "Jules",
    "Nour",
)
_LAST = (
    "Bernard",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Mercier",
    "Blanc",
    "Guerin",
)
_PLACES = (
    ("Lyon", "69003", "0312"),
    ("Lyon", "69007", "0704"),
    ("Villeurbanne", "69100", "0021"),
    ("Lyon", "69008", "0810"),
    ("Vénissieux", "69200", "0105"),
    ("Bron", "69500", "0007"),
)
_SUPPORT = (
    SupportLevel.UNDECIDED,
    SupportLevel.UNKNOWN,
    SupportLevel.UNDECIDED,
    SupportLevel.LEAN_SUPPORTER,
    SupportLevel.LEAN_OPPOSED,
)
# Simulated voters beside the eight above, so that the demo's dialer has a list to
# work through: numbers in ARCEP's fiction ranges (06 39 98 xx xx, 04 65 71 xx xx).
# On the demo's simulated network the last digit decides who answers (a person for
# 0-3, an answering machine for 4-6, busy for 7, no answer for 8-9: docs/telephony.md).
GENERATED_CONTACTS = 240
# The demo dials whenever it is run: every day, all day, in the voter's time.
ROUND_THE_CLOCK = {
    "days": {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
}


def _generated() -> list[tuple[str, str, str, str, str, SupportLevel, str]]:
    rows = []
    for n in range(GENERATED_CONTACTS):
        city, postal, precinct = _PLACES[n % len(_PLACES)]
        first, last = _FIRST[n % len(_FIRST)], _LAST[(n * 7) % len(_LAST)]
        serial = 10 + n  # 00-09 are the named contacts above
        raw = (
            f"06 39 98 {serial // 100:02d} {serial % 100:02d}"
            if n % 3
            else f"04 65 71 {serial // 100:02d} {serial % 100:02d}"
        )
        rows.append((first, last, city, postal, precinct, _SUPPORT[n % len(_SUPPORT)], raw))
    return rows


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
        status=CampaignStatus.ACTIVE,
        calling_window=ROUND_THE_CLOCK,
        caller_id=DEMO_CALLBACK_NUMBER,
        caller_id_name=DEMO_ORGANISATION,
        election_date=date(2027, 3, 14),
    )
    session.add(campaign)
    session.flush()  # the contacts need the campaign's id
    add_default_dispositions(session, campaign.id)
    call_list = CallList(campaign=campaign, name="Indécis Lyon")
    session.add(call_list)
    ensure_sample_script(session, campaign.id)
    for first, last, city, postal, precinct, support, raw in (*_CONTACTS, *_generated()):
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
