"""Point ids that sort newest first, so id-ordered scrolling is a reverse timeline."""

from __future__ import annotations

import secrets
import time
import uuid

_MAX48 = (1 << 48) - 1


def new_id(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    high = (_MAX48 - ms) & _MAX48
    value = (high << 80) | secrets.randbits(80)
    return str(uuid.UUID(int=value))


def id_time(value: str) -> float:
    """When an id was made (ids sort newest first: their high bits count down)."""
    return (_MAX48 - (uuid.UUID(value).int >> 80)) / 1000.0


def is_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
