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
from huchu.game import redact as redaction
from huchu.game import state as store
from huchu.game.average import COHORTS, GameState
from huchu.game.regate import regate
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
    """Each face's picture warped onto the canonical shape (a delete's few faces, here,
    before the state is locked)."""
    image = images_of(ctx)
    payloads = with_others(ctx, payloads)
    return {p["face_id"]: warp_face(image, p) for p in payloads}


def with_others(ctx: Context, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The faces' payloads with ``others``: the boxes of the other faces of their photos
    (counted or not, from the photo records, which keep every face's box), whose pixels
    never enter a face's sums."""
    ids = sorted({str(p["photo_id"]) for p in payloads if p.get("photo_id")})
    photos = {q.id: q.payload for q in ctx.vectors.retrieve(ctx.photos, ids)} if ids else {}
    out = []
    for p in payloads:
        rows = photos.get(str(p.get("photo_id")), {}).get("faces", [])
        others = [r["bbox"] for r in rows if r.get("index") != p.get("index")]
        out.append({**p, "others": others})
    return out


# Faces per call to the process that warps them (whole photos): each call brings back one
# sum (6 MB), so a few calls for a catch-up of 300 faces, and a few photos in memory.
BATCH_FACES = 32
RESCANS = 5  # a recompute scans again when a face it warped was deleted meanwhile


class Stale(Exception):
    """Faces summed before the lock were deleted before it was taken: scan again."""

    def __init__(self, faces: set[str]) -> None:
        super().__init__(f"{len(faces)} faces deleted while their pictures were summed")
        self.faces = faces


def sum_pictures(ctx: Context, payloads: list[dict[str, Any]]) -> MorphState:
    """The faces' pictures warped onto the canonical shape and added up: the slow part of a
    recompute (about 20 ms a face on an idle core, 90 under load). It runs through
    ``Inference.offload`` (a process of its own under ``huchu serve``), a few photos per
    call, so that the API's own threads (a delete, a read) never share an interpreter lock
    with 300 faces' warps; the pictures are read here, so that process needs no store."""
    summed = MorphState()
    for batch in _photo_batches(payloads):
        photos: list[tuple[bytes | None, list[dict[str, Any]]]] = []
        for key, faces in batch:
            try:
                data: bytes | None = ctx.objects.get(key) if key else None
            except HuchuError:
                data = None  # counted as skipped, as a picture that cannot be warped
            photos.append((data, [{k: p.get(k) for k in _WARP_FIELDS} for p in faces]))
        summed.merge(ctx.inference.offload(sum_warped, photos, ctx.settings.max_image_pixels))
    return summed


_WARP_FIELDS = ("face_id", "image_key", "landmarks", "gender", "others")


def _photo_batches(
    payloads: list[dict[str, Any]],
) -> Iterator[list[tuple[str, list[dict[str, Any]]]]]:
    by_photo: dict[str, list[dict[str, Any]]] = {}
    for p in payloads:
        by_photo.setdefault(p.get("image_key") or "", []).append(p)
    batch: list[tuple[str, list[dict[str, Any]]]] = []
    size = 0
    for key, faces in by_photo.items():
        batch.append((key, faces))
        size += len(faces)
        if size >= BATCH_FACES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def sum_warped(
    photos: list[tuple[bytes | None, list[dict[str, Any]]]], max_pixels: int
) -> MorphState:
    """Decode each photo once and add its faces' warps up (plain and picklable: it runs in
    a process of its own under ``huchu serve``)."""
    summed = MorphState()
    for data, faces in photos:
        decoded: list[RGB] = []

        def image(_key: str, data: bytes | None = data, decoded: list[RGB] = decoded) -> RGB:
            if data is None:
                raise NotFound("the picture is gone")
            if not decoded:
                decoded.append(decode_image(data, max_pixels).rgb)
            return decoded[0]

        for p in faces:
            add_warp(summed, warp_face(image, p), p.get("gender"), +1)
    return summed


@dataclass
class Found:
    """New faces and their pictures added up, made before the state is locked."""

    points: list[Point]
    summed: MorphState

    @classmethod
    def scan(cls, ctx: Context, event: str, skip: frozenset[str] = frozenset()) -> Found:
        state = store.load_stats(ctx, event)[0]
        points = [p for p in new_faces(ctx, event, state) if p.id not in skip]
        return cls(points, sum_pictures(ctx, with_others(ctx, [p.payload for p in points])))


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
    or within ``LATE_COMMIT_S`` of it. Their pictures go in as one sum, not 300; a face
    deleted since it was summed raises ``Stale`` (the sum cannot give it back: scan again)."""
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
            gone = {p.id for p in wanted if p.id not in alive}
            if gone:
                raise Stale(gone)
            if len(wanted) != len(found.points):
                raise Stale(set())  # counted by another recompute meanwhile: sum again
            morph.merge(found.summed)
    newest = state.watermark
    for p in candidates:
        state.add(p.id, np.asarray(p.vector), p.payload.get("gender"), p.payload.get("age"))
        if morph is not None and found is not None:
            state.weighted.add(p.id)  # its picture went in with its per-pixel weights
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
        others = payload.get("others") or []
        return warp_to_canonical(image(key), np.asarray(lm, dtype=np.float64), others)
    except HuchuError:
        return None


def add_warp(
    morph: MorphState,
    warp: Warp | None,
    gender: str | None,
    sign: int,
    weighted: bool = True,
    scale: float = 1.0,
) -> None:
    if warp is None:
        morph.skipped += sign
    else:
        morph.add_warped(warp, gender, sign, weighted, scale)


def picture_weights(people: ranking.People) -> dict[str, float]:
    """Each face's weight in the pictures: one over its person's faces when the average
    weighs persons (``HUCHU_AVERAGE_BY=person``), else one."""
    if people.average_by != "person" or people.ctx is not None:
        return {p.id: 1.0 for p in people.faces}
    groups = people.persons.groups()
    return {people.faces[i].id: 1.0 / len(idx) for idx in groups.values() for i in idx}


def reweigh(ctx: Context, event: str, people: ranking.People) -> str | None:
    """One person, one weight in the picture: faces whose person gained or lost a face are
    added again at their new weight (the difference), their pictures warped before the
    state is locked. The key of the morph sums then, or None when nothing changed."""
    desired = picture_weights(people)
    state = store.load_stats(ctx, event)[0]
    changed = {
        f: w
        for f, w in desired.items()
        if f in state.members and abs(w - state.picture_weight.get(f, 1.0)) > 1e-9
    }
    if not changed:
        return None
    payloads = [p.payload for p in ctx.vectors.retrieve(ctx.faces, sorted(changed))]
    warps = warps_of(ctx, payloads)

    def change(state: GameState, morph: MorphState | None) -> bool | None:
        assert morph is not None
        moved = False
        for p in payloads:
            f = p["face_id"]
            if f not in state.members:
                continue  # deleted meanwhile: its delete took it out at its old weight
            old, new = state.picture_weight.get(f, 1.0), changed[f]
            warp = warps.get(f)
            if warp is not None:
                morph.add_warped(warp, p.get("gender"), 1, f in state.weighted, new - old, 0)
            if abs(new - 1.0) > 1e-9:
                state.picture_weight[f] = new
            else:
                state.picture_weight.pop(f, None)
            moved = True
        return moved or None

    done = store.update(ctx, event, change, morph=True)
    return None if done is None else done[2]


def recompute(ctx: Context, event: str, images: bool = True) -> Averages:
    """Fold in new faces and publish version N+1; nothing new keeps version N."""
    with store.render_lock(event):
        regate(ctx, event)  # faces stored before the quality gate: judged once, first
        answer = refresh(ctx, event, images)
    ctx.vectors.compact()  # faces deleted since the last one leave the disk too
    redaction.settle(ctx, event)  # versions a delete could not redact (a refused delete)
    store.clear_morph(ctx, event)
    return answer


def refresh(ctx: Context, event: str, images: bool = True, fold: bool = True) -> Averages:
    """Reserve the next version in the state (short, conditional), then render and publish it.

    Without new faces it publishes only when the sums changed (a delete), when the last
    reserved version never became current (a publish that failed or was dropped), or when
    pictures are wanted and the newest version was published without them (a delete's).
    ``fold=False`` (a delete) also leaves the look-alike families for the next recompute.
    """

    def reserve(
        found: Found | None,
    ) -> Callable[[GameState, MorphState | None], tuple[int, int, int] | None]:
        def change(state: GameState, morph: MorphState | None) -> tuple[int, int, int] | None:
            added = fold_new_faces(ctx, event, state, morph, found) if fold else 0
            head = store.pointer(ctx, event)
            owed = images and not state.drawn
            if added == 0 and not state.dirty and head >= state.version and not owed:
                return None
            state.version += 1
            state.dirty = False
            state.drawn = images
            return state.version, state.deletions, head

        return change

    skip: set[str] = set()
    for _ in range(RESCANS):
        # Found and summed before the state is locked: deletes never wait for it. The
        # morph sums are read and written under the lock only when faces are folded in.
        found = Found.scan(ctx, event, frozenset(skip)) if fold and images else None
        try:
            done = store.update(ctx, event, reserve(found), morph=fold and images)
            break
        except Stale as stale:
            skip |= stale.faces
    else:
        raise Unavailable(f"the faces of {event!r} keep changing; the next recompute folds them")
    if done is None:
        return store.public(ctx, store.current(ctx, event), event)
    (version, deletions, head), state, key = done
    for orphan in store.versions_from(ctx, event, head + 1):
        if int(orphan["version"]) < version:  # reserved once, never made current
            store.drop_version(ctx, event, int(orphan["version"]))
    morph = MorphState()
    people = None
    if images:
        people = ranking.people(ctx, event, state)
        key = reweigh(ctx, event, people) or key
        try:
            morph = store.load_morph(ctx, key)
        except NotFound:  # a delete or a fold replaced these sums: its version comes next
            return store.public(ctx, store.current(ctx, event), event)
    return publish(
        ctx, event, version, deletions, state, morph, images, families=fold, people=people
    )


def publish(
    ctx: Context,
    event: str,
    version: int,
    deletions: int,
    state: GameState,
    morph: MorphState,
    images: bool,
    families: bool = True,
    people: ranking.People | None = None,
) -> Averages:
    """Stats and pictures of ``version`` (and the look-alike graph's families, refreshed in
    the graph database); it becomes current unless a delete overtook it."""
    if families:
        _refresh_families(ctx, event)
    if people is None:
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
