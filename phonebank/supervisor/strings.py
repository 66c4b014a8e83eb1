"""The wallboard's messages, in the page's language: what the script shows, and the
notices after a coaching request. Built once per language (a page renders many
times a second under load; ninety gettext calls each time would be most of its cost)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.support import NullTranslations

from phonebank.resources import resource_dir
from phonebank.web.i18n import load_translations

Gettext = Callable[[str], str]


def notices(_: Gettext) -> dict[str, str]:
    return {
        "handset_saved": _("Your handset is saved."),
        "coach_listen": _("Your handset is ringing: pick it up to listen."),
        "coach_whisper": _("Your handset is ringing: pick it up to whisper to the volunteer."),
        "coach_barge": _("Your handset is ringing: pick it up to join the call."),
        "no_handset": _(
            "Type your handset first: a station number or a channel such as PJSIP/supervisor."
        ),
        "bad_handset": _(
            "This handset is not valid: type a station number, DAHDI/<port> or PJSIP/<name>."
        ),
        "unknown_handset": _("No station in service has this number."),
        "unknown_station": _("This station is not in service."),
        "same_station": _("You cannot coach the station your handset belongs to."),
        "bad_station": _("This station is not valid."),
        "bad_mode": _("Choose listen, whisper or barge."),
        "no_ami": _("Coaching needs the link to Asterisk, which is not configured."),
    }


def script_strings(_: Gettext) -> dict[str, object]:
    return {
        "states": {
            "ready": _("Ready"),
            "talking": _("On a call"),
            "wrap_up": _("Wrap-up"),
            "paused": _("Paused"),
            "idle": _("Handset up, no campaign"),
            "handset_down": _("Handset down"),
        },
        "modes": {"listen": _("Listen"), "whisper": _("Whisper"), "barge": _("Barge in")},
        "mode_labels": {
            "listen": _("Listen to station %(n)s") % {"n": "{n}"},
            "whisper": _("Whisper to the volunteer at station %(n)s") % {"n": "{n}"},
            "barge": _("Barge into the call of station %(n)s") % {"n": "{n}"},
        },
        "coach_states": {
            "calling": _("ringing your handset"),
            "on": _("on the line"),
            "failed": _("failed"),
        },
        "notices": notices(_),
        "station": _("Station %(n)s") % {"n": "{n}"},
        "ringing": _("Ringing"),
        "waiting": _("Answered, waiting"),
        "bridged": _("Put through"),
        "dial_level": _("Lines per volunteer"),
        "contacts_hour": _("Contacts, last hour"),
        "contacts_today": _("Contacts today"),
        "abandon_today": _("Abandoned today"),
        "abandon_30": _("Abandoned, 30 days"),
        "target": _("target"),
        "over_target": _("over the target"),
        "throttled": _("held to progressive until the abandon rate is back under its target"),
        "not_running": _("not dialling"),
        "coach_group": _("Coaching station %(n)s") % {"n": "{n}"},
        "coach_line": _("%(mode)s: %(by)s (%(state)s)")
        % {"mode": "{mode}", "by": "{by}", "state": "{state}"},
        "dispositions": _("Outcomes today"),
        "surveys": _("Survey answers today"),
        "lists": _("Lists"),
        "penetration": _("Penetration"),
        "penetration_detail": _("%(attempted)s of %(total)s leads called at least once")
        % {"attempted": "{attempted}", "total": "{total}"},
        "left": _("Leads left by time zone"),
        "zone": _("Time zone"),
        "pending": _("To call"),
        "due": _("Due now"),
        "window": _("Calling hours"),
        "open": _("open"),
        "closed": _("closed"),
        "no_lists": _("No list yet."),
        "nothing_yet": _("Nothing yet today."),
        "no_campaign": _("No active campaign."),
        "no_station": _("No station in the inventory."),
        "live": _("Live"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "session_over": _("Your session has ended: log in again."),
        "coach_failed": _("Coaching failed:"),
        "outcomes": {
            "human": _("put through"),
            "abandoned": _("abandoned"),
            "machine": _("answering machine"),
            "busy": _("busy"),
            "no_answer": _("no answer"),
            "failed": _("failed"),
        },
        "abandon_rate": _("abandon rate"),
        "volunteer": _("Volunteer"),
        "campaign": _("Campaign"),
    }


@cache
def _catalogs(root: Path) -> dict[str, NullTranslations]:
    return load_translations(root)


@cache
def for_language(language: str) -> tuple[dict[str, str], str]:
    """The notices and the script's strings (as JSON) in `language`."""
    catalog = _catalogs(resource_dir("web") / "translations")[language]
    return notices(catalog.gettext), json.dumps(script_strings(catalog.gettext))
