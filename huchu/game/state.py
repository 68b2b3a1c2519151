"""A game's state and versions in the object store: sums, snapshots, the ``current`` pointer.

Layout under ``events/<event>/game/``: ``state.json`` + ``morph.npz`` (the running sums),
``versions/<n>.json`` (immutable snapshots, with their pictures in ``versions/<n>/``) and
``current.json``, the pointer readers follow.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from huchu.context import Context
from huchu.errors import NotFound
from huchu.game.average import GameState
from huchu.game.render.morph import MorphState
from huchu.schemas import Averages, CohortAverage, History, HistoryItem

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def lock(event: str) -> threading.Lock:
    """One recompute or delete-subtraction per event at a time in this process."""
    with _guard:
        return _locks.setdefault(event, threading.Lock())


def prefix(event: str) -> str:
    return f"events/{event}/game"


def version_prefix(event: str, version: int) -> str:
    return f"{prefix(event)}/versions/{version:06d}"


def get_json(ctx: Context, key: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(ctx.objects.get(key))
        return data
    except NotFound:
        return None


def put_json(ctx: Context, key: str, data: dict[str, Any]) -> None:
    ctx.objects.put(key, json.dumps(data).encode(), "application/json")


def load(ctx: Context, event: str) -> tuple[GameState, MorphState]:
    raw = get_json(ctx, f"{prefix(event)}/state.json")
    state = GameState.from_json(raw) if raw else GameState.empty(ctx.info.embedding_dim)
    try:
        morph = MorphState.from_bytes(ctx.objects.get(f"{prefix(event)}/morph.npz"))
    except NotFound:
        morph = MorphState()
    return state, morph


def save(ctx: Context, event: str, state: GameState, morph: MorphState) -> None:
    # Morph sums first: a state.json never claims faces the sums lack.
    ctx.objects.put(f"{prefix(event)}/morph.npz", morph.to_bytes(), "application/octet-stream")
    put_json(ctx, f"{prefix(event)}/state.json", state.to_json())


def write_version(ctx: Context, snapshot: dict[str, Any]) -> None:
    """The immutable snapshot first; only then does ``current`` point at it."""
    event, version = snapshot["event"], snapshot["version"]
    put_json(ctx, f"{version_prefix(event, version)}.json", snapshot)


def move_pointer(ctx: Context, event: str, version: int) -> None:
    put_json(ctx, f"{prefix(event)}/current.json", {"version": version})


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
