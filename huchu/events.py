"""Events: an organiser's set-up (name, dates, open or closed) and the counts so far.

A set-up lives in the object store at ``events/<event>/event.json``. ``default`` always
exists; any other event exists once an admin (or the CLI's ingest) has set it up.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from huchu.config import DEFAULT_EVENT
from huchu.context import Context
from huchu.errors import EventClosed, NotFound
from huchu.game import state as game_state
from huchu.schemas import EventInfo, EventSetup

DEFAULT_NAME = "Huchu"


def key(event: str) -> str:
    return f"events/{event}/event.json"


def setup(ctx: Context, event: str) -> dict[str, Any] | None:
    """The stored set-up, or ``None`` (``default`` without one gets a plain set-up)."""
    try:
        data: dict[str, Any] = json.loads(ctx.objects.get(key(event)))
        return data
    except NotFound:
        if event == DEFAULT_EVENT:
            return {"name": DEFAULT_NAME, "starts_at": None, "ends_at": None, "open": True}
        return None


def require(ctx: Context, event: str) -> dict[str, Any]:
    """The set-up of an existing event; 404 ``not_found`` for an unknown one."""
    found = setup(ctx, event)
    if found is None:
        raise NotFound(f"no such event: {event}")
    return found


def require_open(ctx: Context, event: str) -> dict[str, Any]:
    """Uploads: the event exists and takes photos (403 ``event_closed`` otherwise)."""
    found = require(ctx, event)
    if not found.get("open", True):
        raise EventClosed("this event is closed: it takes no more photos")
    return found


def name(ctx: Context, event: str) -> str:
    found = setup(ctx, event)
    return str(found["name"]) if found else event


def put(ctx: Context, event: str, body: EventSetup) -> EventInfo:
    """Create or replace an event's set-up (admin)."""
    data = {
        "name": body.name.strip(),
        "starts_at": _iso(body.starts_at),
        "ends_at": _iso(body.ends_at),
        "open": body.open,
    }
    ctx.objects.put(key(event), json.dumps(data).encode(), "application/json")
    return info(ctx, event)


def ensure(ctx: Context, event: str) -> None:
    """Operators (the CLI) set up an event by naming it: its slug becomes its name."""
    if setup(ctx, event) is None:
        put(ctx, event, EventSetup(name=event))


def info(ctx: Context, event: str) -> EventInfo:
    found = require(ctx, event)
    snap = game_state.current(ctx, event)
    people = 0
    for c in [] if snap is None else snap["cohorts"]:
        if c["cohort"] == "all":
            people = int(c.get("people", c["count"]))
    return EventInfo(
        event=event,
        name=found["name"],
        starts_at=found.get("starts_at"),
        ends_at=found.get("ends_at"),
        open=bool(found.get("open", True)),
        photos=ctx.vectors.count(ctx.photos, {"event": event}),
        faces=ctx.vectors.count(ctx.faces, {"event": event}),
        people=people,
        version=0 if snap is None else int(snap["version"]),
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    # Stored in UTC; pages show them in the reader's own time and language.
    return str(value.astimezone(UTC).isoformat().replace("+00:00", "Z"))
