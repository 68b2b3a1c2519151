"""Validation of the fields users send: events, titles, consent, paging."""

from __future__ import annotations

import re

from huchu.errors import BadRequest

# The whole string: ``fullmatch``, since ``$`` also matches before a trailing newline.
EVENT_RE = re.compile(r"[a-z0-9-]{1,40}")
MAX_TITLE = 100
MAX_LIMIT = 100


def event(value: str | None) -> str:
    if value is None or value == "":
        return "default"
    if not EVENT_RE.fullmatch(value):
        raise BadRequest("event must be 1-40 characters of a-z, 0-9 and '-'")
    return value


def title(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_TITLE:
        raise BadRequest(f"title must be at most {MAX_TITLE} characters")
    if any(ord(c) < 32 for c in value):
        raise BadRequest("title must not contain control characters")
    return value or None


def consent(value: str | None) -> None:
    if (value or "").strip().lower() not in ("true", "on", "1", "yes"):
        raise BadRequest("consent is required: send consent=true")


def limit(value: int | None, default: int = 24) -> int:
    if value is None:
        return default
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
    return value


def gender(value: str | None) -> str | None:
    if value in (None, "", "all"):
        return None
    if value not in ("female", "male"):
        raise BadRequest("gender must be female or male")
    return value
