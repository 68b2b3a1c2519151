"""Catalog function: listing, details, look-alikes, graph and engine info."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from functions.app import create_app, lambda_handler
from functions.deps import ContextDep, OwnerDep
from functions.fragments import htmx
from functions.photos import read_upload
from huchu.photos import catalog, validate

router = APIRouter(tags=["catalog"])

Limit = Annotated[int | None, Query()]


@router.get("/api/photos")
async def list_photos(
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    event: str | None = None,
    mine: bool = False,
    limit: Limit = None,
    cursor: str | None = None,
) -> Any:
    """Photos of an event, newest first, page by page (`next_cursor`)."""
    body = await asyncio.to_thread(
        catalog.list_photos, ctx, validate.event(event), validate.limit(limit), cursor, owner, mine
    )
    return htmx(
        request, "fragments/photo_list.html", {"page": body, "event": event or "default"}, body
    )


@router.get("/api/photos/{photo_id}")
async def get_photo(photo_id: str, request: Request, ctx: ContextDep) -> Any:
    """One photo with its faces."""
    body = await asyncio.to_thread(catalog.get_photo, ctx, photo_id)
    return htmx(request, "fragments/upload_result.html", {"photo": body}, body)


@router.get("/api/faces")
async def list_faces(
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    event: str | None = None,
    gender: str | None = None,
    mine: bool = False,
    limit: Limit = None,
    cursor: str | None = None,
) -> Any:
    """Accepted faces of an event, newest first, page by page."""
    ev = validate.event(event)
    body = await asyncio.to_thread(
        catalog.list_faces,
        ctx,
        ev,
        validate.gender(gender),
        validate.limit(limit),
        cursor,
        owner,
        mine,
    )
    context = {"page": body, "event": ev, "gender": gender or "", "mine": mine}
    return htmx(request, "fragments/face_cards.html", context, body)


@router.get("/api/faces/{face_id}")
async def get_face(face_id: str, request: Request, ctx: ContextDep) -> Any:
    """A face with its photo."""
    body = await asyncio.to_thread(catalog.get_face, ctx, face_id)
    return htmx(request, "fragments/face_detail.html", {"face": body}, body)


@router.get("/api/faces/{face_id}/similar")
async def similar_faces(
    face_id: str,
    request: Request,
    ctx: ContextDep,
    limit: Limit = None,
    min_score: float | None = None,
) -> Any:
    """Look-alikes of a face, best first, never the face itself."""
    body = await asyncio.to_thread(
        catalog.similar, ctx, face_id, validate.limit(limit, 10), min_score
    )
    return htmx(request, "fragments/similar.html", {"result": body}, body)


@router.get("/api/faces/{face_id}/graph")
async def face_graph(
    face_id: str, ctx: ContextDep, min_score: float | None = None, limit: Limit = None
) -> Any:
    """A face's neighbourhood in the similarity graph."""
    return await asyncio.to_thread(
        catalog.graph, ctx, face_id, min_score, validate.limit(limit, 50)
    )


@router.post("/api/lookalikes")
async def lookalikes(
    request: Request,
    ctx: ContextDep,
    file: Annotated[UploadFile | None, File()] = None,
    event: Annotated[str | None, Form()] = None,
    limit: Annotated[int | None, Form()] = None,
) -> Any:
    """Look-alikes for the largest face in a photo; nothing is stored."""
    ev = validate.event(event)
    data = await read_upload(file, ctx.settings.max_upload_bytes)
    body = await catalog.lookalikes(ctx, data, ev, validate.limit(limit, 10), None)
    return htmx(request, "fragments/similar.html", {"result": body}, body)


@router.get("/api/engine")
async def engine(ctx: ContextDep) -> dict[str, Any]:
    """The engine in use: models, embedding size, metric and thresholds."""
    return catalog.engine_info(ctx)


app = create_app("Huchu catalog", [router])
handler = lambda_handler(app)
