"""Stored payloads to the contract's models: each shape is built here, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from huchu.context import Context
from huchu.schemas import Face, FaceStanding, Photo, PhotoFace


def now() -> tuple[str, float]:
    t = datetime.now(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z", t.timestamp()


def face_model(ctx: Context, p: dict[str, Any]) -> Face:
    return Face(
        face_id=p["face_id"],
        photo_id=p["photo_id"],
        index=p["index"],
        gender=p.get("gender"),
        age=p.get("age"),
        det_score=p["det_score"],
        portrait_url=ctx.url(p.get("portrait_key")),
        created_at=p["created_at"],
    )


def photo_model(
    ctx: Context, p: dict[str, Any], standings: dict[str, FaceStanding] | None = None
) -> Photo:
    """The photo as the contract shows it: faces in the stored order (the main face
    first); ``standings`` by face id, where known."""
    standings = standings or {}
    return Photo(
        photo_id=p["photo_id"],
        event=p["event"],
        title=p.get("title"),
        created_at=p["created_at"],
        image_url=ctx.url(p["image_key"]),
        annotated_url=ctx.url(p["annotated_key"]),
        width=p.get("width"),
        height=p.get("height"),
        faces=[
            PhotoFace(
                face_id=f.get("face_id"),
                index=f["index"],
                bbox=f["bbox"],
                det_score=f["det_score"],
                gender=f.get("gender"),
                age=f.get("age"),
                accepted=f["accepted"],
                reason=f.get("reason"),
                portrait_url=ctx.url(f.get("portrait_key")),
                standing=standings.get(f.get("face_id") or ""),
            )
            for f in p["faces"]
        ],
    )
