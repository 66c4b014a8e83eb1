"""Unsubscribe tokens and e-mail templates (pure parts of the e-mail follow-up)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phonebank.followup.errors import TemplateError, TokenError
from phonebank.followup.mailer import Templates, build_message
from phonebank.followup.tokens import make_token, unsubscribe_url, verify_token

SECRET = b"k" * 32


@given(st.emails(), st.one_of(st.none(), st.integers(1, 10**6)))
def test_token_round_trip(address: str, campaign: int | None) -> None:
    request = verify_token(SECRET, make_token(SECRET, "email", address, campaign))
    assert (request.channel, request.recipient, request.campaign_id) == ("email", address, campaign)


def test_forged_or_broken_tokens_are_refused() -> None:
    token = make_token(SECRET, "email", "a@example.org", 3)
    payload, _, signature = token.partition(".")
    other = make_token(SECRET, "email", "b@example.org", 3).partition(".")[0]
    with pytest.raises(TokenError, match="signature"):
        verify_token(SECRET, f"{other}.{signature}")
    with pytest.raises(TokenError, match="signature"):
        verify_token(b"another secret", token)
    with pytest.raises(TokenError, match="malformed"):
        verify_token(SECRET, payload)
    with pytest.raises(TokenError, match="base64url"):
        verify_token(SECRET, "a.b")


def test_unsubscribe_url_joins_base() -> None:
    assert unsubscribe_url("https://pb.example.org/u/", "T") == "https://pb.example.org/u/T"


def test_builtin_template_renders_merge_fields() -> None:
    rendered = Templates().render(
        "thanks",
        {
            "first_name": "Élodie",
            "campaign": "Ensemble pour Lyon",
            "election_date": "15 mars",
            "language": "fr",
            "unsubscribe_url": "https://x/u/T",
        },
    )
    assert rendered.subject == "Merci pour votre soutien, Élodie"
    assert "scrutin du 15 mars" in rendered.text and "https://x/u/T" in rendered.text
    assert rendered.html is not None and 'href="https://x/u/T"' in rendered.html


def test_missing_merge_field_or_template_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="thanks"):
        Templates().render("thanks", {"first_name": "A"})
    with pytest.raises(TemplateError, match=r"nope\.subject\.j2 not found"):
        Templates().render("nope", {})
    (tmp_path / "rally.subject.j2").write_text("Meeting <{{ city }}>\n")
    (tmp_path / "rally.txt.j2").write_text("Rendez-vous à {{ city }}")
    rendered = Templates(tmp_path).render("rally", {"city": "Saint-Denis"})
    assert (rendered.subject, rendered.text, rendered.html) == (
        "Meeting <Saint-Denis>",
        "Rendez-vous à Saint-Denis",
        None,
    )


def test_message_headers() -> None:
    message = build_message(
        sender="Campagne <campagne@example.org>",
        to="elodie@example.org",
        subject="Fête",
        text="Bonjour",
        html="<p>Bonjour</p>",
        unsubscribe="https://x/u/T",
        message_id_domain="example.org",
    )
    assert message["List-Unsubscribe"] == "<https://x/u/T>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content_type() == "multipart/alternative"
