"""A sample script with a branching survey, for the demo campaign and the tests.

It shows every kind of question: single choice whose options branch, a free
text reached only by one answer, multiple choice, a scale whose low answers end
the survey, and closing lines per outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.db.enums import QuestionKind
from phonebank.db.models import Script, SurveyOption, SurveyQuestion

SAMPLE_BODY = {
    "fields": {"candidate": "Claire Rivière"},
    "opening": "Bonjour {first_name}, je m'appelle {volunteer}, bénévole pour {candidate} "
    "aux municipales. Avez-vous deux minutes ?",
    "sections": [
        {
            "title": "Si la personne a le temps",
            "text": "{candidate} veut des transports moins chers, plus de logements "
            "abordables et des écoles rénovées à {city}.",
        }
    ],
    "closings": {
        "supporter": "Merci beaucoup {first_name} ! On compte sur vous le 14 mars.",
        "undecided": "Merci {first_name}, je vous laisse réfléchir ; bonne soirée.",
        "call_back": "Très bien, je vous rappelle au moment convenu. Bonne soirée !",
        "default": "Merci de m'avoir écouté, bonne soirée.",
    },
}

# (key, kind, prompt, settings, [(value, label, next question)])
Choice = tuple[str, str, str | None]
SAMPLE_QUESTIONS: tuple[tuple[str, QuestionKind, str, dict[str, object], list[Choice]], ...] = (
    (
        "will_vote",
        QuestionKind.SINGLE,
        "Comptez-vous voter aux municipales ?",
        {},
        [
            ("yes", "Oui", "topics"),
            ("no", "Non", "why_not"),
            ("unsure", "Je ne sais pas", "topics"),
        ],
    ),
    ("why_not", QuestionKind.TEXT, "Qu'est-ce qui vous en empêche ?", {"next": "end"}, []),
    (
        "topics",
        QuestionKind.MULTIPLE,
        "Quels sujets comptent le plus pour vous ?",
        {},
        [
            ("transport", "Transports", None),
            ("housing", "Logement", None),
            ("schools", "Écoles", None),
            ("safety", "Sécurité", None),
        ],
    ),
    (
        "support",
        QuestionKind.SCALE,
        "De 1 à 5, quelle chance de voter pour {candidate} ?",
        {"min": 1, "max": 5, "branches": [{"from": 1, "to": 2, "next": "end"}]},
        [],
    ),
    (
        "help",
        QuestionKind.SINGLE,
        "Souhaitez-vous aider la campagne ?",
        {},
        [("yes", "Oui", None), ("no", "Non", None)],
    ),
)


def ensure_sample_script(session: Session, campaign_id: int, now: datetime | None = None) -> int:
    """Give the campaign the sample script as its active version, unless it has one."""
    existing = session.scalar(
        select(Script.id).where(Script.campaign_id == campaign_id, Script.active.is_(True))
    )
    if existing is not None:
        return existing
    script = Script(
        campaign_id=campaign_id,
        version=1,
        title="Municipales — appel aux électeurs",
        body=SAMPLE_BODY,
        published_at=now or datetime.now(UTC),
        active=True,
    )
    for position, (key, kind, prompt, settings, options) in enumerate(SAMPLE_QUESTIONS):
        question = SurveyQuestion(
            key=key, position=position, kind=kind, prompt=prompt, settings=settings
        )
        for index, (value, label, next_key) in enumerate(options):
            question.options.append(
                SurveyOption(value=value, label=label, position=index, next_question_key=next_key)
            )
        script.questions.append(question)
    session.add(script)
    session.flush()
    return script.id
