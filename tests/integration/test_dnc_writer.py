"""The call-back line's opt-out writes the do-not-call list like `phonebank dnc add`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, select

from phonebank.db import session_factory
from phonebank.db.models import Campaign, Contact, DoNotCallEntry, PhoneNumber
from phonebank.telephony.dnc import SqlDncWriter

NUMBER = "+262692001122"


def test_opt_out_closes_the_number_everywhere_once(migrated_engine: Engine) -> None:
    engine = migrated_engine
    sessions = session_factory(engine)
    with sessions.begin() as session:
        for name in ("A", "B"):
            campaign = Campaign(name=name)
            session.add(campaign)
            session.flush()
            contact = Contact(campaign_id=campaign.id, first_name="Zoé")
            contact.phones.append(PhoneNumber(e164=NUMBER, time_zone="Indian/Reunion"))
            session.add(contact)
    writer = SqlDncWriter(engine)
    # A caller pressing 1 on several lines at once: one entry, no error, one "added".
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(lambda _: writer(NUMBER, source="callback-ivr", reason="pressed 1"), range(6))
        )
    assert results.count(True) == 1
    assert writer(NUMBER, source="callback-ivr", reason="again") is False
    with sessions() as session:
        entries = session.scalars(select(DoNotCallEntry)).all()
        phones = session.scalars(select(PhoneNumber)).all()
    assert [(e.e164, e.source) for e in entries] == [(NUMBER, "callback-ivr")]
    assert len(phones) == 2
    assert all(p.do_not_call and not p.callable for p in phones)
