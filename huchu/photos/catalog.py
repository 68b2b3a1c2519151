"""Read paths: photos and faces with cursors, details, look-alikes and a face's graph."""

from __future__ import annotations

from typing import Any

from huchu.context import Context
from huchu.errors import BadRequest, NoFace, NotFound
from huchu.imaging.decode import decode_image
from huchu.photos import owner as owners
from huchu.photos.records import face_model, photo_model
from huchu.quality import Gate, main_index, no_face_message
from huchu.resemblance import resemblance
from huchu.schemas import (
    Embedding,
    Engine,
    FaceDetail,
    FacePage,
    Lookalikes,
    Photo,
    PhotoPage,
    QueryFace,
    Similar,
    SimilarItem,
)
from huchu.stores.ids import is_id
from huchu.stores.vectors import Point


def _cursor(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if not is_id(value):
        raise BadRequest("cursor is not valid")
    return value


def _scope(event: str, owner_token: str | None, mine: bool) -> dict[str, Any]:
    """The filter of a listing: the event, and the owner when only mine are asked for."""
    match: dict[str, Any] = {"event": event}
    if mine:
        if not owner_token:
            raise BadRequest("mine=true needs the X-Huchu-Owner header")
        match["owner_hash"] = owners.hash_token(owner_token)
    return match


def list_photos(
    ctx: Context, event: str, limit: int, cursor: str | None, owner_token: str | None, mine: bool
) -> PhotoPage:
    match = _scope(event, owner_token, mine)
    points, nxt = ctx.vectors.scroll(ctx.photos, match, limit, _cursor(cursor))
    items = [photo_model(ctx, p.payload) for p in visible(points)]
    return PhotoPage(items=items, next_cursor=nxt)


def visible(points: list[Point]) -> list[Point]:
    """Points of a photo being deleted are already gone for every reader."""
    return [p for p in points if not p.payload.get("deleting")]


def get_photo_payload(ctx: Context, photo_id: str, deleting: bool = False) -> dict[str, Any]:
    """The stored photo; one being deleted only for the delete that finishes it."""
    if not is_id(photo_id):
        raise NotFound("no such photo")
    found = ctx.vectors.retrieve(ctx.photos, [photo_id])
    if not found or (found[0].payload.get("deleting") and not deleting):
        raise NotFound("no such photo")
    return found[0].payload


def get_photo(ctx: Context, photo_id: str) -> Photo:
    return photo_model(ctx, get_photo_payload(ctx, photo_id))


def list_faces(
    ctx: Context,
    event: str,
    gender: str | None,
    limit: int,
    cursor: str | None,
    owner_token: str | None = None,
    mine: bool = False,
) -> FacePage:
    match = _scope(event, owner_token, mine) | {"gender": gender}
    points, nxt = ctx.vectors.scroll(ctx.faces, match, limit, _cursor(cursor))
    return FacePage(items=[face_model(ctx, p.payload) for p in visible(points)], next_cursor=nxt)


def face_point(ctx: Context, face_id: str, vectors: bool = False) -> Point:
    if not is_id(face_id):
        raise NotFound("no such face")
    found = visible(ctx.vectors.retrieve(ctx.faces, [face_id], vectors=vectors))
    if not found:
        raise NotFound("no such face")
    return found[0]


def get_face(ctx: Context, face_id: str) -> FaceDetail:
    p = face_point(ctx, face_id)
    face = face_model(ctx, p.payload)
    return FaceDetail(**dict(face), photo=get_photo(ctx, p.payload["photo_id"]))


def _similar_points(
    ctx: Context,
    vector: list[float],
    event: str,
    limit: int,
    min_score: float | None,
    exclude: str | None,
) -> list[Point]:
    hits = ctx.vectors.search(ctx.faces, vector, {"event": event}, limit + 1, min_score)
    return [h for h in visible(hits) if h.id != exclude][:limit]


def _items(ctx: Context, hits: list[Point], photo_id: str | None) -> list[SimilarItem]:
    scale = ctx.info.thresholds
    return [
        SimilarItem(
            face=face_model(ctx, h.payload),
            score=float(h.score or 0.0),
            same_photo=h.payload["photo_id"] == photo_id,
            resemblance=resemblance(float(h.score or 0.0), scale),
        )
        for h in hits
    ]


def similar(ctx: Context, face_id: str, limit: int, min_score: float | None) -> Similar:
    p = face_point(ctx, face_id, vectors=True)
    assert p.vector is not None
    hits = _similar_points(ctx, p.vector, p.payload["event"], limit, min_score, face_id)
    return Similar(face_id=face_id, items=_items(ctx, hits, p.payload["photo_id"]))


def lookalikes(
    ctx: Context, data: bytes, event: str, limit: int, min_score: float | None
) -> Lookalikes:
    """Look-alikes for the largest face of a photo that is never stored."""
    analysis = ctx.inference.analyze(data)
    s = ctx.settings
    # The game's quality gate chooses the face, as for an upload: a blurred or turned face
    # would match everyone alike.
    rgb = decode_image(data, max_pixels=s.max_image_pixels).rgb
    reasons = Gate(min_score=s.min_det_score, min_px=s.min_face_px).judge(rgb, analysis.faces)
    main = main_index(analysis.faces, reasons)
    if main is None:
        raise NoFace(no_face_message(analysis.faces, reasons))
    face = analysis.faces[main]
    hits = _similar_points(ctx, [float(v) for v in face.embedding], event, limit, min_score, None)
    return Lookalikes(
        face_id=None,
        face=QueryFace(bbox=list(face.bbox), gender=face.gender, age=face.age),
        items=_items(ctx, hits, None),
    )


def engine_info(ctx: Context) -> Engine:
    return Engine.model_validate(ctx.info.as_dict() | {"backend": ctx.inference.backend})


def face_embedding(ctx: Context, face_id: str) -> Embedding:
    p = face_point(ctx, face_id, vectors=True)
    return Embedding(face_id=face_id, engine=p.payload.get("engine"), embedding=p.vector or [])
