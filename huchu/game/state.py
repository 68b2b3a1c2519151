"""A game's state and versions in the object store: sums, snapshots, the ``current`` pointer.

Layout under ``events/<event>/game/``: ``state.json`` (the running sums and statistics,
one object written conditionally, naming its morph sums), ``morph/<id>.npz`` (morph sums,
each written once), ``versions/<n>.json`` (snapshots, with their pictures in
``versions/<n>/``) and ``current.json``, the pointer readers follow.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from huchu.context import Context
from huchu.errors import HuchuError, NotFound, Unavailable
from huchu.game.average import GameState
from huchu.game.render.morph import MorphState
from huchu.schemas import Averages, CohortAverage, History, HistoryItem
from huchu.stores.ids import id_time, new_id
from huchu.stores.objects import Conflict

log = logging.getLogger(__name__)

JSON = "application/json"
NPZ = "application/x-npz"

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
    return f"{prefix(event)}/state.json"


def get_json(ctx: Context, key: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(ctx.objects.get(key))
        return data
    except NotFound:
        return None


def put_json(ctx: Context, key: str, data: dict[str, Any]) -> None:
    ctx.objects.put(key, json.dumps(data).encode(), "application/json")


def morph_key(event: str) -> str:
    """A fresh, never rewritten key for the morph sums (the state names the one in use)."""
    return f"{prefix(event)}/morph/{new_id()}.npz"


def _legacy_key(event: str) -> str:
    return f"{prefix(event)}/state.npz"  # sums and morph sums in one object (before 2026-11)


def _decode_legacy(data: bytes) -> tuple[GameState, MorphState]:
    z = np.load(io.BytesIO(data))
    state = GameState.from_json(json.loads(z["state"].tobytes()))
    return state, MorphState.from_bytes(z["morph"].tobytes())


def load_stats(ctx: Context, event: str) -> tuple[GameState, str | None, str | None]:
    """The state, the key of its morph sums (None: none yet) and the tag a conditional
    write needs (None: no state yet). A few KB: the morph sums are not read."""
    try:
        data, etag = ctx.objects.get_tagged(state_key(event))
    except NotFound:
        return _load_legacy(ctx, event)
    doc = json.loads(data)
    return GameState.from_json(doc["state"]), doc.get("morph"), etag


def _load_legacy(ctx: Context, event: str) -> tuple[GameState, str | None, str | None]:
    """A state written in one object names that object for its morph sums until the first
    update that changes them writes them on their own (and removes the old object)."""
    key = _legacy_key(event)
    try:
        state, _ = _decode_legacy(ctx.objects.get(key))
    except NotFound:
        return GameState.empty(ctx.info.embedding_dim), None, None
    return state, key, None


def load_morph(ctx: Context, key: str | None) -> MorphState:
    """The morph sums a state names (``NotFound`` if a newer state replaced them since)."""
    if key is None:
        return MorphState()
    data = ctx.objects.get(key)
    return _decode_legacy(data)[1] if key.endswith("/state.npz") else MorphState.from_bytes(data)


def clear_morph(ctx: Context, event: str, older_than_s: float = 600.0) -> int:
    """Morph sums no state names (a writer that stopped between its two writes, or lost
    the race for the state), once older than ``older_than_s``."""
    named = load_stats(ctx, event)[1]
    cutoff = time.time() - older_than_s
    stale = [
        k
        for k in ctx.objects.list(f"{prefix(event)}/morph/")
        if k != named and id_time(k.rsplit("/", 1)[-1].removesuffix(".npz")) < cutoff
    ]
    ctx.objects.delete(stale)
    return len(stale)


def load(ctx: Context, event: str) -> tuple[GameState, MorphState, str | None]:
    """The state, its morph sums, and the tag a conditional write needs (None: new)."""
    state, key, etag = load_stats(ctx, event)
    return state, load_morph(ctx, key), etag


def deletions(ctx: Context, event: str) -> int:
    """How many deletes the state has counted."""
    return load_stats(ctx, event)[0].deletions


T = TypeVar("T")


def update(
    ctx: Context,
    event: str,
    change: Callable[[GameState, MorphState | None], T | None],
    morph: bool = True,
) -> tuple[T, GameState, str | None] | None:
    """Read, change, write back conditionally; retried when another writer came first.

    ``change`` edits the state (and, with ``morph``, the morph sums) in place and returns
    a result, or None for "nothing to write". The state is a small JSON object written
    conditionally; changed morph sums (6 MB) go to a fresh object that the state names,
    so a change that leaves them alone (a version reserved, a flag) neither reads nor
    writes them, and what the state names is always whole. Safe across processes and
    function instances. Returns the result, the state and the key of its morph sums.
    """
    for _ in range(RETRIES):
        with lock(event):
            state, key, etag = load_stats(ctx, event)
            sums = load_morph(ctx, key) if morph else None
            result = change(state, sums)
            if result is None:
                return None
            fresh = None
            if sums is not None:
                fresh = morph_key(event)
                ctx.objects.put(fresh, sums.to_bytes(), NPZ)
            doc = {"state": state.to_json(), "morph": fresh or key}
            try:
                ctx.objects.put_if(state_key(event), json.dumps(doc).encode(), JSON, etag)
            except Conflict:
                if fresh is not None:
                    ctx.objects.delete([fresh])
                continue
            if fresh is not None and key is not None:
                # Sums a delete took a face out of leave at once; a drawing that still
                # wanted them finds them gone and gives way to the newer version. The
                # change is written: sums the store refuses to delete are no longer named,
                # so the next recompute's clear_morph takes them.
                try:
                    ctx.objects.delete([key])
                except HuchuError as exc:
                    log.warning("old morph sums of %s left for the next recompute: %s", event, exc)
            return result, state, fresh or key
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
                image_small_url=ctx.url(images.get(c["cohort"], {}).get("image_small")),
                timeline_url=ctx.url(images.get(c["cohort"], {}).get("timeline")),
                portrait_url=ctx.url(images.get(c["cohort"], {}).get("portrait")),
                portrait_small_url=ctx.url(images.get(c["cohort"], {}).get("portrait_small")),
            )
            for c in snapshot["cohorts"]
        ],
        pair_image_url=ctx.url(images.get("pair", {}).get("image")),
        pair_image_small_url=ctx.url(images.get("pair", {}).get("image_small")),
        pair_portrait_url=ctx.url(images.get("pair", {}).get("portrait")),
        pair_portrait_small_url=ctx.url(images.get("pair", {}).get("portrait_small")),
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
