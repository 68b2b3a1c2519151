"""Recompute a game, top to bottom: fold in new faces, rank, render, write a version, point at it.

Deletes take their faces out of the sums at once (``subtract_deleted``, wired on the
``Context`` by ``build_context``); the next recompute publishes the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from huchu.context import Context
from huchu.engines.base import RGB
from huchu.errors import HuchuError, Unavailable
from huchu.game import ranking
from huchu.game import state as store
from huchu.game.average import COHORTS, GameState
from huchu.game.render.morph import MorphState
from huchu.game.render.version import render_version
from huchu.imaging.decode import decode_image
from huchu.photos.records import now
from huchu.schemas import Averages

log = logging.getLogger(__name__)

PAGE = 1024
# Uploads stamp created_ts before they commit; re-reading this much of the past
# catches a slow commit (the member set keeps it from counting twice).
LATE_COMMIT_S = 120.0


def _images(ctx: Context) -> Callable[[str], RGB]:
    cache: dict[str, RGB] = {}

    def get(key: str) -> RGB:
        if key not in cache:
            cache.clear()  # faces of one photo come together; keep one picture in memory
            cache[key] = decode_image(ctx.objects.get(key), ctx.settings.max_image_pixels).rgb
        return cache[key]

    return get


def fold_new_faces(ctx: Context, event: str, state: GameState, morph: MorphState | None) -> int:
    """Read only faces stamped since the watermark: O(new)."""
    added = 0
    cursor = None
    newest = state.watermark
    image = _images(ctx)
    since = max(0.0, state.watermark - LATE_COMMIT_S)
    while True:
        match = {"event": event, "created_ts": {"gte": since}}
        points, cursor = ctx.vectors.scroll(ctx.faces, match, PAGE, cursor, vectors=True)
        for p in sorted(points, key=lambda p: (p.payload.get("image_key", ""), p.id)):
            if p.id in state.members or p.vector is None:
                continue
            state.add(p.id, np.asarray(p.vector), p.payload.get("gender"), p.payload.get("age"))
            added += 1
            newest = max(newest, float(p.payload.get("created_ts", 0.0)))
            if morph is not None:
                _morph(morph, image, p.payload, +1)
        if cursor is None:
            break
    state.watermark = newest
    return added


def _morph(
    morph: MorphState, image: Callable[[str], RGB], payload: dict[str, Any], sign: int
) -> None:
    lm = payload.get("landmarks")
    key = payload.get("image_key")
    if not key or not lm or len(lm) != 68:
        morph.skipped += sign
        return
    try:
        morph.add(image(key), lm, payload.get("gender"), sign)
    except HuchuError:
        morph.skipped += sign


def subtract_deleted(
    ctx: Context, payloads: list[dict[str, Any]], vectors: list[list[float]]
) -> None:
    """Delete hook: take the faces out of their event's sums now, while the photo still exists."""
    by_event: dict[str, list[int]] = {}
    for i, p in enumerate(payloads):
        by_event.setdefault(p["event"], []).append(i)
    image = _images(ctx)
    for event, idx in by_event.items():
        with store.lock(event):
            state, morph = store.load(ctx, event)
            changed = False
            for i in idx:
                p = payloads[i]
                if p["face_id"] not in state.members:
                    continue  # never folded in: nothing to take out
                state.remove(p["face_id"], np.asarray(vectors[i]), p.get("gender"), p.get("age"))
                _morph(morph, image, p, -1)
                changed = True
            if changed:
                state.dirty = True
                store.save(ctx, event, state, morph)


def recompute(ctx: Context, event: str, images: bool = True) -> Averages:
    """Write version N+1 (stats, mean vectors, pictures), then move ``current`` in one put."""
    with store.lock(event):
        state, morph = store.load(ctx, event)
        added = fold_new_faces(ctx, event, state, morph if images else None)
        head = store.current(ctx, event)
        if head is not None and added == 0 and not state.dirty:
            return store.public(ctx, head, event)  # nothing changed: no new version
        _refresh_families(ctx, event)
        computed_at, _ = now()
        version = state.version + 1
        cohorts = []
        for c in COHORTS:
            acc = state.cohorts[c]
            if acc.count == 0:
                continue
            best = ranking.ranked(ctx, event, c, acc.mean, 1)
            cohorts.append(
                {
                    "cohort": c,
                    "count": acc.count,
                    "mean_age": None if acc.mean_age is None else round(acc.mean_age, 2),
                    "spread": round(acc.spread, 4),
                    "closest_face_id": best[0][0] if best else None,
                    "mean": acc.mean.tolist(),
                }
            )
        keys: dict[str, Any] = {}
        if images:
            history = store.history_snapshots(ctx, event)
            keys = render_version(ctx, event, version, state, morph, history)
        snapshot = {
            "event": event,
            "version": version,
            "computed_at": computed_at,
            "cohorts": cohorts,
            "images": keys,
            "morph_skipped": morph.skipped,
        }
        store.write_version(ctx, snapshot)
        state.version = version
        state.dirty = False
        store.save(ctx, event, state, morph)
        store.move_pointer(ctx, event, version)
        return store.public(ctx, snapshot, event)


def _refresh_families(ctx: Context, event: str) -> None:
    """The look-alike graph's families, recomputed by the graph database. The averages do
    not wait on it: a graph that is down leaves last round's families in place."""
    from huchu.photos.family import refresh

    try:
        refresh(ctx, event)
    except Unavailable as exc:
        log.warning("families of %s not refreshed: %s", event, exc.message)
