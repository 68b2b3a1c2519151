"""A game's state and versions in the object store: sums, snapshots, the ``current`` pointer.

Layout under ``events/<event>/game/``: ``state.npz`` (the running sums and statistics, one
object written conditionally), ``versions/<n>.json`` (snapshots, with their pictures in
``versions/<n>/``) and ``current.json``, the pointer readers follow.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from huchu.context import Context
from huchu.errors import NotFound, Unavailable
from huchu.game.average import GameState
from huchu.game.render.morph import MorphState
from huchu.schemas import Averages, CohortAverage, History, HistoryItem
from huchu.stores.objects import Conflict

JSON = "application/json"

# How often a conditional write is retried when another process got there first.
RETRIES = 20

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def lock(event: str) -> threading.Lock:
    """In this process: one read-modify-write of an event's state at a time (short)."""
    with _guard:
        return _locks.setdefault(f"state:{event}", threading.Lock())


def render_lock(event: str) -> threading.Lock:
    """In this process: one recompute render per event at a time; deletes never wait on it."""
    with _guard:
        return _locks.setdefault(f"render:{event}", threading.Lock())


def prefix(event: str) -> str:
    return f"events/{event}/game"


def version_prefix(event: str, version: int) -> str:
    return f"{prefix(event)}/versions/{version:06d}"


def state_key(event: str) -> str:
    return f"{prefix(event)}/state.npz"


def get_json(ctx: Context, key: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(ctx.objects.get(key))
        return data
    except NotFound:
        return None


def put_json(ctx: Context, key: str, data: dict[str, Any]) -> None:
    ctx.objects.put(key, json.dumps(data).encode(), "application/json")


def encode(state: GameState, morph: MorphState) -> bytes:
    """Sums, morph sums and statistics as one object, so they are always written together."""
    buf = io.BytesIO()
    np.savez(
        buf,
        state=np.frombuffer(json.dumps(state.to_json()).encode(), dtype=np.uint8),
        morph=np.frombuffer(morph.to_bytes(), dtype=np.uint8),
    )
    return buf.getvalue()


def decode(data: bytes) -> tuple[GameState, MorphState]:
    z = np.load(io.BytesIO(data))
    state = GameState.from_json(json.loads(z["state"].tobytes()))
    return state, MorphState.from_bytes(z["morph"].tobytes())


def load(ctx: Context, event: str) -> tuple[GameState, MorphState, str | None]:
    """The state, its morph sums, and the tag a conditional ``save`` needs (None: new)."""
    try:
        data, etag = ctx.objects.get_tagged(state_key(event))
    except NotFound:
        return GameState.empty(ctx.info.embedding_dim), MorphState(), None
    state, morph = decode(data)
    return state, morph, etag


def deletions(ctx: Context, event: str) -> int:
    """How many deletes the state has counted (its statistics only: the morph sums, most of
    the object, are not decoded)."""
    try:
        data = ctx.objects.get(state_key(event))
    except NotFound:
        return 0
    return int(json.loads(np.load(io.BytesIO(data))["state"].tobytes()).get("deletions", 0))


def save(ctx: Context, event: str, state: GameState, morph: MorphState, etag: str | None) -> str:
    """Write only over the state that was read (raises ``Conflict`` otherwise)."""
    return ctx.objects.put_if(state_key(event), encode(state, morph), "application/x-npz", etag)


T = TypeVar("T")


def update(
    ctx: Context, event: str, change: Callable[[GameState, MorphState], T | None]
) -> tuple[T, GameState, MorphState] | None:
    """Read, change, write back conditionally; retried when another writer came first.

    ``change`` edits the state in place and returns a result, or None for "nothing to
    write". Safe across processes and function instances (conditional writes).
    """
    for _ in range(RETRIES):
        with lock(event):
            state, morph, etag = load(ctx, event)
            result = change(state, morph)
            if result is None:
                return None
            try:
                save(ctx, event, state, morph, etag)
            except Conflict:
                continue
            return result, state, morph
    raise Unavailable(f"the game state of {event!r} is too busy; try again")


def write_version(ctx: Context, snapshot: dict[str, Any]) -> None:
    """The immutable snapshot; ``current`` moves to it only afterwards."""
    event, version = snapshot["event"], snapshot["version"]
    put_json(ctx, f"{version_prefix(event, version)}.json", snapshot)


def move_pointer(ctx: Context, event: str, version: int) -> bool:
    """Point ``current`` at ``version`` unless it already points at a newer one."""
    key = f"{prefix(event)}/current.json"
    for _ in range(RETRIES):
        try:
            data, etag = ctx.objects.get_tagged(key)
            if int(json.loads(data)["version"]) >= version:
                return False
        except NotFound:
            etag = None
        try:
            ctx.objects.put_if(key, json.dumps({"version": version}).encode(), JSON, etag)
            return True
        except Conflict:
            continue
    raise Unavailable(f"the averages of {event!r} are too busy; try again")


def current(ctx: Context, event: str) -> dict[str, Any] | None:
    pointer = get_json(ctx, f"{prefix(event)}/current.json")
    if pointer is None:
        return None
    return get_json(ctx, f"{version_prefix(event, int(pointer['version']))}.json")


def public(ctx: Context, snapshot: dict[str, Any] | None, event: str) -> Averages:
    if snapshot is None:
        return Averages(event=event, version=0, computed_at=None, cohorts=[], pair_image_url=None)
    images = snapshot.get("images", {})
    return Averages(
        event=snapshot["event"],
        version=snapshot["version"],
        computed_at=snapshot["computed_at"],
        cohorts=[
            CohortAverage(
                cohort=c["cohort"],
                count=c["count"],
                people=c.get("people", c["count"]),
                mean_age=c.get("mean_age"),
                spread=c["spread"],
                closest_face_id=c.get("closest_face_id"),
                image_url=ctx.url(images.get(c["cohort"], {}).get("image")),
                timeline_url=ctx.url(images.get(c["cohort"], {}).get("timeline")),
            )
            for c in snapshot["cohorts"]
        ],
        pair_image_url=ctx.url(images.get("pair", {}).get("image")),
        template_urls={k: ctx.url(v) for k, v in images.get("templates", {}).items()},
    )


def history_snapshots(ctx: Context, event: str) -> list[dict[str, Any]]:
    """Versions up to the current one, oldest first (a version never made current is skipped)."""
    head = current(ctx, event)
    if head is None:
        return []
    out = []
    base = f"{prefix(event)}/versions/"
    for key in ctx.objects.list(base):
        if not key.endswith(".json") or "/" in key[len(base) :]:
            continue  # a version's own files (graph.json, ...) live in its folder
        snap = get_json(ctx, key)
        if snap is not None and snap["version"] <= head["version"]:
            out.append(snap)
    return sorted(out, key=lambda s: s["version"])


def history(ctx: Context, event: str, cohort: str) -> History:
    items = []
    for snap in reversed(history_snapshots(ctx, event)):
        for c in snap["cohorts"]:
            if c["cohort"] == cohort:
                key = snap.get("images", {}).get(cohort, {}).get("image")
                items.append(
                    HistoryItem(
                        version=snap["version"],
                        computed_at=snap["computed_at"],
                        count=c["count"],
                        image_url=ctx.url(key),
                    )
                )
    return History(items=items)


def pointer(ctx: Context, event: str) -> int:
    """The version ``current`` points at (0: none yet)."""
    data = get_json(ctx, f"{prefix(event)}/current.json")
    return 0 if data is None else int(data["version"])


def version_keys(ctx: Context, event: str, version: int) -> list[str]:
    base = version_prefix(event, version)
    return [f"{base}.json", *ctx.objects.list(f"{base}/")]


def drop_version(ctx: Context, event: str, version: int) -> None:
    """A version that never became current: its snapshot and pictures go."""
    ctx.objects.delete(version_keys(ctx, event, version))


def versions_from(ctx: Context, event: str, first: int) -> list[dict[str, Any]]:
    """Every stored snapshot numbered ``first`` or later, current or not."""
    base = f"{prefix(event)}/versions/"
    out = []
    for key in ctx.objects.list(base):
        name = key[len(base) :]
        # The number is in the name (000123.json): only the versions wanted are read.
        if "/" not in name and name.endswith(".json") and int(name[:-5]) >= first:
            snap = get_json(ctx, key)
            if snap is not None:
                out.append(snap)
    return sorted(out, key=lambda s: int(s["version"]))
