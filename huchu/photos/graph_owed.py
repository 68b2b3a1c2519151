"""Graph writes owed to the look-alike graph, so that a graph outage blocks nothing.

The graph is derived data (the vector store holds the truth). When an upload cannot link
its faces, or a delete cannot unlink them, the write is not retried in the request: a
marker object per event (``events/<event>/graph-owed.json``, in the object store, so it
outlives the process and every instance sees it) says the graph owes work, and the next
use of the event's graph (a graph route or the recompute) first reconciles it with the
vector store both ways (``lookalikes.backfill(full=True)``), then removes the marker.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterable

from huchu.context import Context
from huchu.errors import HuchuError, NotFound
from huchu.stores import lookalikes

log = logging.getLogger(__name__)
_settling = threading.Lock()  # one reconcile per process at a time


def key(event: str) -> str:
    return f"events/{event}/graph-owed.json"


def owe(ctx: Context, events: Iterable[str], why: Exception) -> None:
    """Remember that the events' graphs missed a write (never raises: the caller's answer
    stands; without the marker the next recompute still sees the counts differ)."""
    for event in sorted(set(events)):
        log.warning("look-alike graph of %s behind (caught up on next use): %s", event, why)
        try:
            body = json.dumps({"token": secrets.token_hex(8)}).encode()
            ctx.objects.put(key(event), body, "application/json")
        except Exception:
            log.exception("could not note that the graph of %s is behind", event)


def _marker(ctx: Context, event: str) -> bytes | None:
    try:
        return ctx.objects.get(key(event))
    except NotFound:
        return None


def settle(ctx: Context, event: str) -> bool:
    """Reconcile the event's graph if it owes writes; True when it did. Raises
    Unavailable while the graph is away (the marker stays)."""
    if _marker(ctx, event) is None:
        return False
    with _settling:
        seen = _marker(ctx, event)
        if seen is None:
            return False  # another request settled it meanwhile
        threshold = ctx.info.thresholds.lookalike
        lookalikes.backfill(ctx.vectors, ctx.graph, ctx.faces, event, threshold, full=True)
        if _marker(ctx, event) == seen:  # a write that failed meanwhile keeps its marker
            try:
                ctx.objects.delete([key(event)])
            except HuchuError as exc:  # the graph is right; the marker asks again next time
                log.warning("look-alike graph of %s caught up, marker left: %s", event, exc)
                return True
        log.warning("look-alike graph of %s caught up", event)
        return True
