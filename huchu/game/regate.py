"""Faces stored before the quality gate are judged by it on the next recompute.

Once per event and gate version (a marker in the game's folder), every photo whose record
predates the gate is read again: its stored faces are rebuilt from their records (box,
five points, landmarks, score), measured on the stored original and judged with the
photo's other faces, exactly as an upload judges them. A face that fails leaves the game
as a deleted face does (out of the sums and every version, its vector, portrait and graph
node gone); its row in the photo record keeps only its box, number and reason. Each is
logged.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from huchu.context import Context
from huchu.engines.base import Face
from huchu.errors import HuchuError
from huchu.game import state as store
from huchu.imaging.decode import decode_image
from huchu.quality import GATE_VERSION, Gate, measured
from huchu.stores.vectors import Point

log = logging.getLogger(__name__)
PAGE = 256


def marker_key(event: str) -> str:
    return f"{store.prefix(event)}/gate-v{GATE_VERSION}.json"


def regate(ctx: Context, event: str) -> int:
    """Judge the event's photos stored before this gate; the number of faces that left."""
    if store.get_json(ctx, marker_key(event)) is not None:
        return 0
    gate = Gate(min_score=ctx.settings.min_det_score, min_px=ctx.settings.min_face_px)
    left = seen = skipped = 0
    cursor = None
    while True:
        points, cursor = ctx.vectors.scroll(ctx.photos, {"event": event}, PAGE, cursor)
        seen += len(points)
        for photo in points:
            if int(photo.payload.get("gate") or 0) < GATE_VERSION and not photo.payload.get(
                "deleting"
            ):
                judged = _judge_photo(ctx, gate, photo.payload)
                skipped += judged is None
                left += judged or 0
        if cursor is None:
            break
    # An event without photos writes nothing (its photos will carry the gate); a photo that
    # could not be read is tried again by the next recompute.
    if seen and not skipped:
        store.put_json(ctx, marker_key(event), {"gate": GATE_VERSION, "left": left})
    return left


def _judge_photo(ctx: Context, gate: Gate, photo: dict[str, Any]) -> int | None:
    """The faces of one photo that left the game; None when its picture could not be read.

    The photo record is written last and a face whose vector is already gone counts as
    gone: a run stopped between the two finishes on the next one."""
    ids = [f["face_id"] for f in photo.get("faces") or [] if f.get("face_id")]
    if not ids or not photo.get("image_key"):
        return 0  # no counted face to judge again
    points = {p.id: p for p in ctx.vectors.retrieve(ctx.faces, ids, vectors=True)}
    stored = [points[i] for i in ids if i in points]
    try:
        rgb = decode_image(ctx.objects.get(photo["image_key"]), ctx.settings.max_image_pixels).rgb
    except HuchuError as exc:
        log.warning("photo %s not judged again: %s", photo["photo_id"], exc.message)
        return None
    faces = [measured(rgb, _face(p)) for p in stored]
    reasons = gate.judge(rgb, faces)
    failed = [(p, r) for p, r in zip(stored, reasons, strict=True) if r is not None]
    if failed:
        _leave(ctx, photo, failed)
    kept = [
        Point(p.id, p.payload | {"gate": GATE_VERSION}, p.vector or [])
        for p, r in zip(stored, reasons, strict=True)
        if r is None
    ]
    if kept:
        ctx.vectors.upsert(ctx.faces, kept)
    why: dict[str, str] = {i: "background" for i in ids if i not in points}  # left already
    why.update({p.id: r for p, r in failed})
    rows = [_row(f, why.get(f.get("face_id") or "")) for f in photo["faces"]]
    record = photo | {"faces": rows, "gate": GATE_VERSION}
    ctx.vectors.upsert(ctx.photos, [Point(photo["photo_id"], record, [1.0])])
    return len(failed)


def _leave(ctx: Context, photo: dict[str, Any], failed: list[tuple[Point, str]]) -> None:
    """The faces leave the game as a delete takes them: sums, versions, vectors, graph."""
    payloads = [p.payload for p, _ in failed]
    for watcher in ctx.faces_deleted:
        watcher.before(ctx, payloads, [p.vector or [] for p, _ in failed])
    ctx.objects.delete([k for k in (p.get("portrait_key") for p in payloads) if k])
    ctx.vectors.delete(ctx.faces, [p.id for p, _ in failed])
    for p, reason in failed:
        log.warning(
            "face %s of photo %s left the game: %s (judged again by gate v%d)",
            p.id,
            photo["photo_id"],
            reason,
            GATE_VERSION,
        )


def _row(row: dict[str, Any], reason: str | None) -> dict[str, Any]:
    if reason is None:
        return row
    return row | {
        "face_id": None,
        "accepted": False,
        "reason": reason,
        "portrait_key": None,
        "gender": None,
        "age": None,
    }


def _face(p: Point) -> Face:
    """A stored face rebuilt for the gate (its sharpness is measured again on the photo)."""
    x1, y1, x2, y2 = (float(v) for v in p.payload["bbox"])
    return Face(
        bbox=(x1, y1, x2, y2),
        kps=tuple((float(x), float(y)) for x, y in p.payload.get("kps") or []),
        det_score=float(p.payload["det_score"]),
        landmarks=tuple((float(x), float(y)) for x, y in p.payload.get("landmarks") or []),
        gender=p.payload.get("gender"),
        age=p.payload.get("age"),
        embedding=np.asarray(p.vector or [], dtype=np.float32),
        engine=str(p.payload.get("engine") or ""),
        model_id=str(p.payload.get("model_id") or ""),
        face_px=int(p.payload.get("face_px") or round(min(x2 - x1, y2 - y1))),
        sharpness=0.0,
    )
