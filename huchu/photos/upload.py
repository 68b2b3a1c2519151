"""The upload use case: analyse, gate, draw, store everything or nothing."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from huchu import events
from huchu.analysis import Analysis
from huchu.context import Context
from huchu.engines.base import Face
from huchu.errors import HuchuError, NoFace, Unavailable
from huchu.game.standing import provisional_standings
from huchu.health import room
from huchu.imaging.render import Rendered, RenderSpec
from huchu.photos import family, graph_owed
from huchu.photos import owner as owners
from huchu.photos.records import now, photo_model
from huchu.quality import GATE_VERSION, main_index, no_face_message
from huchu.schemas import UploadedPhoto
from huchu.stores.ids import new_id
from huchu.stores.vectors import Point

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadRequest:
    data: bytes
    event: str
    title: str | None
    owner_token: str | None


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_photo(ctx: Context, req: UploadRequest) -> UploadedPhoto:
    """Store the photo and the faces that count; answer the contract's 201 body."""
    # Portraits carry the event's name, not its slug.
    name = str(events.require_open(ctx, req.event)["name"])
    room(ctx.settings)  # a nearly full data volume refuses before anything is written
    spec = RenderSpec(name, ctx.settings.min_det_score, ctx.settings.min_face_px)
    analysis, rendered = ctx.inference.analyze_and_render(req.data, spec)
    if rendered is None:
        raise NoFace(no_face_message(analysis.faces, list(analysis.reasons)))
    token = req.owner_token or owners.new_token()
    plan = _plan(req, analysis, rendered, token)
    _commit(ctx, plan)
    photo = photo_model(ctx, plan.photo.payload, provisional_standings(ctx, plan.faces))
    issued = token if req.owner_token is None else None
    return UploadedPhoto(**dict(photo), owner_token=issued)


@dataclass
class Plan:
    objects: list[tuple[str, bytes]]
    faces: list[Point]
    photo: Point


@dataclass(frozen=True)
class _Photo:
    """What every face record of one upload shares."""

    req: UploadRequest
    photo_id: str
    prefix: str
    owner_hash: str
    created_at: str
    created_ts: float


def _plan(req: UploadRequest, analysis: Analysis, rendered: Rendered, token: str) -> Plan:
    created_at, ts = now()
    photo_id = new_id()
    shared = _Photo(
        req,
        photo_id,
        f"events/{req.event}/photos/{photo_id}",
        owners.hash_token(token),
        created_at,
        ts,
    )
    objects: list[tuple[str, bytes]] = [
        (f"{shared.prefix}/original.jpg", rendered.original),
        (f"{shared.prefix}/annotated.jpg", rendered.annotated),
    ]
    reasons = list(analysis.reasons)
    main = main_index(analysis.faces, reasons)
    # The main face first, then the others in reading order (their numbers on the picture).
    order = ([] if main is None else [main]) + [i for i in range(len(reasons)) if i != main]
    face_rows, points = [], []
    for i in order:
        row, point = _face(shared, i, analysis.faces[i], reasons[i])
        if point is not None:
            objects.append((row["portrait_key"], rendered.portraits[i]))
            points.append(point)
        face_rows.append(row)
    photo = Point(
        id=photo_id,
        vector=[1.0],
        payload={
            "photo_id": photo_id,
            "event": req.event,
            "title": req.title,
            "created_at": created_at,
            "created_ts": ts,
            "owner_hash": shared.owner_hash,
            "image_key": f"{shared.prefix}/original.jpg",
            "annotated_key": f"{shared.prefix}/annotated.jpg",
            "width": analysis.width,
            "height": analysis.height,
            "content_hash": content_hash(req.data),
            "engine": analysis.engine.engine,
            "gate": GATE_VERSION,
            "faces": face_rows,
        },
    )
    return Plan(objects=objects, faces=points, photo=photo)


def _face(
    shared: _Photo, i: int, face: Face, reason: str | None
) -> tuple[dict[str, Any], Point | None]:
    """A face's row in the photo record and, when it counts, its own record (a point).

    Of a face that does not count nothing is kept but its box, number and reason (its
    gender and age are a bystander's: not stored)."""
    accepted = reason is None
    row: dict[str, Any] = {
        "face_id": None,
        "index": i + 1,
        "bbox": [round(v, 1) for v in face.bbox],
        "det_score": round(face.det_score, 4),
        "gender": face.gender if accepted else None,
        "age": None if face.age is None or not accepted else round(face.age, 1),
        "accepted": accepted,
        "reason": reason,
        "portrait_key": None,
    }
    if not accepted:
        return row, None
    face_id = new_id()
    row.update(face_id=face_id, portrait_key=f"{shared.prefix}/faces/{face_id}.jpg")
    payload = {
        **{k: row[k] for k in ("face_id", "index", "det_score", "gender", "age")},
        "photo_id": shared.photo_id,
        "event": shared.req.event,
        "owner_hash": shared.owner_hash,
        "created_at": shared.created_at,
        "created_ts": shared.created_ts,
        "portrait_key": row["portrait_key"],
        "image_key": f"{shared.prefix}/original.jpg",
        "bbox": row["bbox"],
        "kps": [[round(x, 2), round(y, 2)] for x, y in face.kps],
        "landmarks": [[round(x, 2), round(y, 2)] for x, y in face.landmarks],
        "face_px": face.face_px,
        "sharpness": round(face.sharpness, 2),
        "gate": GATE_VERSION,
        "engine": face.engine,
        "model_id": face.model_id,
    }
    return row, Point(id=face_id, vector=[float(v) for v in face.embedding], payload=payload)


def _commit(ctx: Context, plan: Plan) -> None:
    """Objects first, then face vectors, then the photo record; undo all on failure."""
    written: list[str] = []
    vectors_written = False
    try:
        for key, data in plan.objects:
            ctx.objects.put(key, data, "image/jpeg")
            written.append(key)
        faces = ctx.faces
        vectors_written = True
        ctx.vectors.upsert(faces, plan.faces)
        ctx.vectors.upsert(ctx.photos, [plan.photo])
    except Exception as exc:
        _undo(ctx, written, plan if vectors_written else None)
        if isinstance(exc, Unavailable):
            raise
        if isinstance(exc, HuchuError):
            raise Unavailable(exc.message) from exc
        log.exception("upload failed; rolled back")
        raise Unavailable("storage failed; nothing was stored") from exc
    try:
        family.link(ctx, plan.faces)  # the look-alike graph: links to the nearest faces
    except Exception as exc:  # derived data: the upload stands, the graph catches up later
        graph_owed.owe(ctx, {str(p.payload["event"]) for p in plan.faces}, exc)


def _undo(ctx: Context, keys: list[str], plan: Plan | None) -> None:
    try:
        if plan is not None:
            ctx.vectors.delete(ctx.photos, [plan.photo.id])
            ctx.vectors.delete(ctx.faces, [p.id for p in plan.faces])
    except Exception:
        log.exception("rollback of vectors failed")
    try:
        if plan is not None:
            family.unlink(ctx, [p.payload for p in plan.faces])
    except Exception:
        log.exception("rollback of the look-alike graph failed")
    try:
        ctx.objects.delete(keys)
    except Exception:
        log.exception("rollback of objects failed: %s", keys)
