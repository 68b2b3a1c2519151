"""Recompute a game: fold in new faces, write an immutable version, move the pointer."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np

from huchu.context import Context
from huchu.errors import NotFound
from huchu.game.average import COHORTS, GameState
from huchu.photos.records import face_json, now

_locks: dict[str, threading.Lock] = {}
PAGE = 256


def _lock(event: str) -> threading.Lock:
    return _locks.setdefault(event, threading.Lock())


def _prefix(event: str) -> str:
    return f"events/{event}/game"


def load_state(ctx: Context, event: str) -> GameState:
    try:
        return GameState.from_json(json.loads(ctx.objects.get(f"{_prefix(event)}/state.json")))
    except NotFound:
        return GameState.empty(ctx.inference.info.embedding_dim)


def _save_json(ctx: Context, key: str, data: dict[str, Any]) -> None:
    ctx.objects.put(key, json.dumps(data).encode(), "application/json")


def fold_new_faces(ctx: Context, event: str, state: GameState) -> int:
    """Only faces created since the watermark are read: O(new)."""
    added = 0
    cursor = None
    newest = state.watermark
    while True:
        match = {"event": event, "created_ts": {"gte": state.watermark}}
        points, cursor = ctx.vectors.scroll(ctx.faces, match, PAGE, cursor, vectors=True)
        for p in points:
            if p.id not in state.members and p.vector is not None:
                state.add(p.id, np.asarray(p.vector), p.payload.get("gender"), p.payload.get("age"))
                added += 1
            newest = max(newest, float(p.payload.get("created_ts", 0.0)))
        if cursor is None:
            break
    state.watermark = newest
    return added


def subtract_deleted(
    ctx: Context, payloads: list[dict[str, Any]], vectors: list[list[float]]
) -> None:
    """Delete hook: take the faces out of their event's accumulators right away."""
    by_event: dict[str, list[int]] = {}
    for i, p in enumerate(payloads):
        by_event.setdefault(p["event"], []).append(i)
    for event, idx in by_event.items():
        with _lock(event):
            state = load_state(ctx, event)
            for i in idx:
                p = payloads[i]
                state.remove(p["face_id"], np.asarray(vectors[i]), p.get("gender"), p.get("age"))
            _save_json(ctx, f"{_prefix(event)}/state.json", state.to_json())


def recompute(ctx: Context, event: str, fail_before_pointer: bool = False) -> dict[str, Any]:
    """Write version N+1 (stats, mean vectors), then move ``current`` in one put."""
    with _lock(event):
        state = load_state(ctx, event)
        fold_new_faces(ctx, event, state)
        computed_at, _ = now()
        version = state.version + 1
        cohorts = []
        for c in COHORTS:
            acc = state.cohorts[c]
            if acc.count == 0:
                continue
            best = leaderboard_points(ctx, event, c, acc.mean, 1)
            cohorts.append(
                {
                    "cohort": c,
                    "count": acc.count,
                    "mean_age": None if acc.mean_age is None else round(acc.mean_age, 2),
                    "spread": round(acc.spread, 4),
                    "image_url": None,
                    "closest_face_id": best[0][0] if best else None,
                    "mean": acc.mean.tolist(),
                }
            )
        snapshot = {
            "event": event,
            "version": version,
            "computed_at": computed_at,
            "cohorts": cohorts,
        }
        _save_json(ctx, f"{_prefix(event)}/versions/{version:06d}.json", snapshot)
        if fail_before_pointer:
            raise RuntimeError("injected failure before the pointer moves")
        state.version = version
        _save_json(ctx, f"{_prefix(event)}/state.json", state.to_json())
        _save_json(ctx, f"{_prefix(event)}/current.json", {"version": version})
        return public(snapshot)


def current(ctx: Context, event: str) -> dict[str, Any] | None:
    try:
        pointer = json.loads(ctx.objects.get(f"{_prefix(event)}/current.json"))
    except NotFound:
        return None
    data: dict[str, Any] = json.loads(
        ctx.objects.get(f"{_prefix(event)}/versions/{pointer['version']:06d}.json")
    )
    return data


def public(snapshot: dict[str, Any] | None, event: str = "default") -> dict[str, Any]:
    if snapshot is None:
        return {
            "event": event,
            "version": 0,
            "computed_at": None,
            "cohorts": [],
            "pair_image_url": None,
        }
    return {
        "event": snapshot["event"],
        "version": snapshot["version"],
        "computed_at": snapshot["computed_at"],
        "cohorts": [{k: v for k, v in c.items() if k != "mean"} for c in snapshot["cohorts"]],
        "pair_image_url": None,
    }


def history(ctx: Context, event: str, cohort: str) -> dict[str, Any]:
    head = current(ctx, event)
    items = []
    if head is not None:
        for key in reversed(ctx.objects.list(f"{_prefix(event)}/versions/")):
            snap = json.loads(ctx.objects.get(key))
            if snap["version"] > head["version"]:
                continue  # written, but never made current
            for c in snap["cohorts"]:
                if c["cohort"] == cohort:
                    items.append(
                        {
                            "version": snap["version"],
                            "computed_at": snap["computed_at"],
                            "count": c["count"],
                            "image_url": c["image_url"],
                        }
                    )
    return {"items": items}


def leaderboard_points(
    ctx: Context, event: str, cohort: str, mean: np.ndarray, limit: int
) -> list[tuple[str, float, dict[str, Any]]]:
    match: dict[str, Any] = {"event": event}
    if cohort != "all":
        match["gender"] = cohort
    hits = ctx.vectors.search(ctx.faces, [float(v) for v in mean], match, limit + 8)
    ranked = sorted(
        ((h.id, round(float(h.score or 0.0), 6), h.payload) for h in hits),
        key=lambda t: (-t[1], t[0]),
    )
    return ranked[:limit]


def leaderboard(ctx: Context, event: str, cohort: str, limit: int) -> dict[str, Any]:
    snap = current(ctx, event)
    if snap is None:
        return {"version": 0, "items": []}
    for c in snap["cohorts"]:
        if c["cohort"] == cohort:
            ranked = leaderboard_points(ctx, event, cohort, np.asarray(c["mean"]), limit)
            return {
                "version": snap["version"],
                "items": [
                    {"rank": i + 1, "face": face_json(ctx, p), "score": round(s, 4)}
                    for i, (_, s, p) in enumerate(ranked)
                ],
            }
    return {"version": snap["version"], "items": []}


def _register() -> None:
    from huchu.photos.delete import on_delete

    on_delete(subtract_deleted)


_register()
