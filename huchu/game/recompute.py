"""Recompute a game, top to bottom: fold in new faces, rank, render, write a version, point at it.

Deletes take their faces out of the sums and publish at once (``huchu/game/erase.py``,
wired on the ``Context`` by ``build_context``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from huchu.context import Context
from huchu.engines.base import RGB
from huchu.errors import HuchuError, NotFound, Unavailable
from huchu.game import ranking
from huchu.game import state as store
from huchu.game.average import COHORTS, GameState
from huchu.game.render.morph import MorphState, Warp, warp_to_canonical
from huchu.game.render.version import render_version
from huchu.imaging.decode import decode_image
from huchu.photos.records import now
from huchu.schemas import Averages
from huchu.stores.vectors import Point

PAGE = 1024
# Uploads stamp created_ts before they commit; re-reading this much of the past
# catches a slow commit (the member set keeps it from counting twice).
LATE_COMMIT_S = 120.0
log = logging.getLogger(__name__)


def images_of(ctx: Context) -> Callable[[str], RGB]:
    cache: dict[str, RGB] = {}

    def get(key: str) -> RGB:
        if key not in cache:
            cache.clear()  # faces of one photo come together; keep one picture in memory
            cache[key] = decode_image(ctx.objects.get(key), ctx.settings.max_image_pixels).rgb
        return cache[key]

    return get


def new_faces(ctx: Context, event: str, state: GameState) -> Iterator[Point]:
    """Faces stamped since the watermark and not yet counted: O(new)."""
    cursor = None
    since = max(0.0, state.watermark - LATE_COMMIT_S)
    while True:
        match = {"event": event, "created_ts": {"gte": since}}
        points, cursor = ctx.vectors.scroll(ctx.faces, match, PAGE, cursor, vectors=True)
        for p in sorted(points, key=lambda p: (p.payload.get("image_key", ""), p.id)):
            if p.id not in state.members and p.vector is not None and not p.payload.get("deleting"):
                yield p
        if cursor is None:
            break


def warps_of(ctx: Context, payloads: list[dict[str, Any]]) -> dict[str, Warp | None]:
    """Each face's picture warped onto the canonical shape: the slow part of a fold or a
    delete, done before the state is locked so that neither waits for the other's."""
    image = images_of(ctx)
    return {p["face_id"]: warp_face(image, p) for p in payloads}


@dataclass
class Found:
    """New faces with their pictures, made before the state is locked: the faces, each
    one's warp, and the warps added up."""

    points: list[Point]
    warps: dict[str, Warp | None]
    summed: MorphState

    @classmethod
    def scan(cls, ctx: Context, event: str) -> Found:
        points = list(new_faces(ctx, event, store.load_stats(ctx, event)[0]))
        warps = warps_of(ctx, [p.payload for p in points])
        summed = MorphState()
        for p in points:
            add_warp(summed, warps[p.id], p.payload.get("gender"), +1)
        return cls(points, warps, summed)


def fold_new_faces(
    ctx: Context,
    event: str,
    state: GameState,
    morph: MorphState | None = None,
    found: Found | None = None,
) -> int:
    """Add the new faces to the sums (and, given ``morph`` and ``found``, their pictures).

    Without ``found`` the new faces are read from the store here. With it, only the faces
    found before the state was locked are folded in (each checked again: still stored, not
    being deleted): faces stored since then wait for the next recompute, so the lock is
    held neither while pictures are warped (a recompute catching up 300 faces held it 11 s
    and deletes waited) nor while the store is scanned; they are newer than the watermark,
    or within ``LATE_COMMIT_S`` of it. Their pictures go in as one sum, not 300."""
    if found is None:
        candidates: list[Point] = list(new_faces(ctx, event, state))
    else:
        wanted = [p for p in found.points if p.id not in state.members]
        alive = {
            p.id
            for p in ctx.vectors.retrieve(ctx.faces, [p.id for p in wanted])
            if not p.payload.get("deleting")
        }
        candidates = [p for p in wanted if p.id in alive]
        if morph is not None:
            morph.merge(found.summed)
            for p in found.points:  # summed, but not to be counted: taken out again
                if p.id not in alive:
                    add_warp(morph, found.warps[p.id], p.payload.get("gender"), -1)
    newest = state.watermark
    for p in candidates:
        state.add(p.id, np.asarray(p.vector), p.payload.get("gender"), p.payload.get("age"))
        newest = max(newest, float(p.payload.get("created_ts", 0.0)))
    state.watermark = newest
    return len(candidates)


def warp_face(image: Callable[[str], RGB], payload: dict[str, Any]) -> Warp | None:
    """None: the face cannot be morphed (no 68 landmarks, a folded warp, no picture)."""
    lm = payload.get("landmarks")
    key = payload.get("image_key")
    if not key or not lm or len(lm) != 68:
        return None
    try:
        return warp_to_canonical(image(key), np.asarray(lm, dtype=np.float64))
    except HuchuError:
        return None


def add_warp(morph: MorphState, warp: Warp | None, gender: str | None, sign: int) -> None:
    if warp is None:
        morph.skipped += sign
    else:
        morph.add_warped(warp, gender, sign)


def recompute(ctx: Context, event: str, images: bool = True) -> Averages:
    """Fold in new faces and publish version N+1; nothing new keeps version N."""
    with store.render_lock(event):
        answer = refresh(ctx, event, images)
    ctx.vectors.compact()  # faces deleted since the last one leave the disk too
    store.clear_morph(ctx, event)
    return answer


def refresh(ctx: Context, event: str, images: bool = True, fold: bool = True) -> Averages:
    """Reserve the next version in the state (short, conditional), then render and publish it.

    Without new faces it publishes only when the sums changed (a delete), when the last
    reserved version never became current (a publish that failed or was dropped), or when
    pictures are wanted and the newest version was published without them (a delete's).
    ``fold=False`` (a delete) also leaves the look-alike families for the next recompute.
    """

    # Found and warped before the state is locked: deletes never wait for it.
    found = Found.scan(ctx, event) if fold and images else None

    def reserve(state: GameState, morph: MorphState | None) -> tuple[int, int, int] | None:
        added = fold_new_faces(ctx, event, state, morph, found) if fold else 0
        head = store.pointer(ctx, event)
        owed = images and not state.drawn
        if added == 0 and not state.dirty and head >= state.version and not owed:
            return None
        state.version += 1
        state.dirty = False
        state.drawn = images
        return state.version, state.deletions, head

    # The morph sums are read and written under the lock only when faces are folded in.
    done = store.update(ctx, event, reserve, morph=fold and images)
    if done is None:
        return store.public(ctx, store.current(ctx, event), event)
    (version, deletions, head), state, key = done
    for orphan in store.versions_from(ctx, event, head + 1):
        if int(orphan["version"]) < version:  # reserved once, never made current
            store.drop_version(ctx, event, int(orphan["version"]))
    morph = MorphState()
    if images:
        try:
            morph = store.load_morph(ctx, key)
        except NotFound:  # a delete or a fold replaced these sums: its version comes next
            return store.public(ctx, store.current(ctx, event), event)
    return publish(ctx, event, version, deletions, state, morph, images, families=fold)


def publish(
    ctx: Context,
    event: str,
    version: int,
    deletions: int,
    state: GameState,
    morph: MorphState,
    images: bool,
    families: bool = True,
) -> Averages:
    """Stats and pictures of ``version`` (and the look-alike graph's families, refreshed in
    the graph database); it becomes current unless a delete overtook it."""
    if families:
        _refresh_families(ctx, event)
    people = ranking.people(ctx, event, state)
    rows = [people.cohort_row(c, state.cohorts[c]) for c in COHORTS]
    cohorts = [c for c in rows if c is not None]
    keys: dict[str, Any] = {}
    if images:
        history = store.history_snapshots(ctx, event)
        keys = render_version(ctx, event, version, state, morph, history)
    keys["people"] = store_people(ctx, event, version, people)
    snapshot = {
        "event": event,
        "version": version,
        "computed_at": now()[0],
        "cohorts": cohorts,
        "images": keys,
        "morph_skipped": morph.skipped,
    }
    store.write_version(ctx, snapshot)
    if store.deletions(ctx, event) != deletions:
        # A face was deleted while this version was drawn: it may show the face, so it
        # goes; the delete publishes its own, newer version.
        store.drop_version(ctx, event, version)
        return store.public(ctx, store.current(ctx, event), event)
    store.move_pointer(ctx, event, version)
    return store.public(ctx, snapshot, event)


def store_people(ctx: Context, event: str, version: int, people: ranking.People) -> str:
    """Each cohort's persons, best first: the leaderboard and every face's standing."""
    key = f"{store.version_prefix(event, version)}/people.json"
    store.put_json(ctx, key, people.to_json())
    return key


def _refresh_families(ctx: Context, event: str) -> None:
    """The look-alike graph's families, recomputed by the graph database. The averages do
    not wait on it: a graph that is down leaves last round's families in place."""
    from huchu.photos.family import refresh

    try:
        refresh(ctx, event)
    except Unavailable as exc:
        log.warning("families of %s not refreshed: %s", event, exc.message)
