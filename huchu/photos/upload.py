"""The upload use case: analyse, gate, draw, store everything or nothing."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from huchu import events
from huchu.analysis import Analysis
from huchu.context import Context
from huchu.errors import HuchuError, NoFace, Unavailable
from huchu.health import room
from huchu.imaging.render import Rendered, RenderSpec
from huchu.photos import family, graph_owed
from huchu.photos import owner as owners
from huchu.photos.records import now, photo_model
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
    """Store the photo and its accepted faces; answer the contract's 201 body."""
    # Portraits carry the event's name, not its slug.
    name = str(events.require_open(ctx, req.event)["name"])
    room(ctx.settings)  # a nearly full data volume refuses before anything is written
    spec = RenderSpec(name, ctx.settings.min_det_score, ctx.settings.min_face_px)
    analysis, rendered = ctx.inference.analyze_and_render(req.data, spec)
    if rendered is None:
        raise NoFace("no face was found that passes the detection gate")
    token = req.owner_token or owners.new_token()
    plan = _plan(req, analysis, rendered, spec, token)
    _commit(ctx, plan)
    photo = photo_model(ctx, plan.photo.payload)
    issued = token if req.owner_token is None else None
    return UploadedPhoto(**dict(photo), owner_token=issued)


@dataclass
class Plan:
    objects: list[tuple[str, bytes]]
    faces: list[Point]
    photo: Point


def _plan(
    req: UploadRequest, analysis: Analysis, rendered: Rendered, spec: RenderSpec, token: str
) -> Plan:
    photo_id = new_id()
    created_at, ts = now()
    prefix = f"events/{req.event}/photos/{photo_id}"
    owner_hash = owners.hash_token(token)
    objects: list[tuple[str, bytes]] = [
        (f"{prefix}/original.jpg", rendered.original),
        (f"{prefix}/annotated.jpg", rendered.annotated),
    ]
    face_rows, points = [], []
    for index, face in enumerate(analysis.faces):
        reason = spec.reason(face)
        accepted = reason is None
        row: dict[str, Any] = {
            "face_id": None,
            "index": index,
            "bbox": [round(v, 1) for v in face.bbox],
            "det_score": round(face.det_score, 4),
            "gender": face.gender,
            "age": None if face.age is None else round(face.age, 1),
            "accepted": accepted,
            "reason": reason,
            "portrait_key": None,
        }
        if accepted:
            face_id = new_id()
            portrait_key = f"{prefix}/faces/{face_id}.jpg"
            objects.append((portrait_key, rendered.portraits[index]))
            row.update(face_id=face_id, portrait_key=portrait_key)
            points.append(
                Point(
                    id=face_id,
                    vector=[float(v) for v in face.embedding],
                    payload={
                        **{k: row[k] for k in ("face_id", "index", "det_score", "gender", "age")},
                        "photo_id": photo_id,
                        "event": req.event,
                        "owner_hash": owner_hash,
                        "created_at": created_at,
                        "created_ts": ts,
                        "portrait_key": portrait_key,
                        "image_key": f"{prefix}/original.jpg",
                        "bbox": row["bbox"],
                        "kps": [[round(x, 2), round(y, 2)] for x, y in face.kps],
                        "landmarks": [[round(x, 2), round(y, 2)] for x, y in face.landmarks],
                        "face_px": face.face_px,
                        "sharpness": round(face.sharpness, 2),
                        "engine": face.engine,
                        "model_id": face.model_id,
                    },
                )
            )
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
            "owner_hash": owner_hash,
            "image_key": f"{prefix}/original.jpg",
            "annotated_key": f"{prefix}/annotated.jpg",
            "width": analysis.width,
            "height": analysis.height,
            "content_hash": content_hash(req.data),
            "engine": analysis.engine.engine,
            "faces": face_rows,
        },
    )
    return Plan(objects=objects, faces=points, photo=photo)


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
