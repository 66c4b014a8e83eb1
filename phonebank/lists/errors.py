"""Errors of the lists feature; each message says what and where (file, line, field)."""

from __future__ import annotations


class ListError(Exception):
    """Base of the lists feature's errors; `code` is stable for callers."""

    code = "list_error"


class ListFileError(ListError):
    """A file (or its column mapping) that cannot be imported at all; nothing was imported."""

    code = "unreadable_file"


class CampaignNotFound(ListError):
    code = "campaign_not_found"


class TargetError(ListError):
    """A targeting expression (`--where`) that cannot be understood."""

    code = "bad_target"


class BulkImportRefused(ListError):
    """A --bulk import that must not run now (a dialer is running, a lock is held)."""

    code = "bulk_refused"
