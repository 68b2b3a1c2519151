"""Catalog function: listing, details, look-alikes, graph and engine info."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request, Response

from functions.app import create_app as create_function
from functions.app import lazy_handler
from functions.deps import (
    ContextDep,
    CursorQuery,
    EventForm,
    FileForm,
    GenderQuery,
    Limit,
    MinScoreQuery,
    OwnerDep,
    RateLimitDep,
    blocking,
)
from functions.errors import responses
from functions.events import KnownEvent
from functions.fragments import htmx
from functions.photos import read_upload
from huchu import events
from huchu.config import DEFAULT_EVENT, MAX_PAGE, Settings
from huchu.game.standing import face_detail, with_standings
from huchu.photos import catalog, family, validate
from huchu.schemas import (
    Engine,
    ErrorBody,
    FaceDetail,
    FaceGraph,
    FacePage,
    FacePath,
    Family,
    Lookalikes,
    Photo,
    PhotoPage,
    Similar,
)

router = APIRouter(tags=["catalog"])
NO_PATH = {"model": ErrorBody, "description": "`not_found`, `no_path` (no chain joins them)"}


@router.get("/api/photos", response_model=PhotoPage, responses=responses(400, 404))
async def list_photos(
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    event: KnownEvent,
    mine: bool = False,
    limit: Limit = 24,
    cursor: CursorQuery = None,
) -> Response:
    """Photos of an event, newest first, page by page (`next_cursor`); each counted face
    carries its standing once the event has an average."""
    body = await blocking(catalog.list_photos, ctx, event, limit, cursor, owner, mine)
    body = await blocking(with_standings, ctx, event, body)
    return htmx(request, "fragments/photo_list.html", "page", body, event=event)


@router.get("/api/photos/{photo_id}", response_model=Photo, responses=responses(404))
async def get_photo(photo_id: str, request: Request, ctx: ContextDep) -> Response:
    """One photo with its faces (each counted face with its standing)."""
    body = await blocking(catalog.get_photo, ctx, photo_id)
    page = PhotoPage(items=[body], next_cursor=None)
    body = (await blocking(with_standings, ctx, body.event, page)).items[0]
    return htmx(request, "fragments/upload_result.html", "photo", body)


@router.get("/api/faces", response_model=FacePage, responses=responses(400, 404))
async def list_faces(
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    event: KnownEvent,
    gender: GenderQuery = None,
    mine: bool = False,
    limit: Limit = 24,
    cursor: CursorQuery = None,
) -> Response:
    """Accepted faces of an event, newest first, page by page."""
    wanted = validate.gender(gender)
    body = await blocking(catalog.list_faces, ctx, event, wanted, limit, cursor, owner, mine)
    return htmx(
        request,
        "fragments/face_cards.html",
        "page",
        body,
        event=event,
        gender=gender or "all",
        mine=mine,
    )


@router.get("/api/faces/{face_id}", response_model=FaceDetail, responses=responses(404))
async def get_face(face_id: str, request: Request, ctx: ContextDep) -> Response:
    """A face with its photo."""
    body = await blocking(face_detail, ctx, face_id)
    return htmx(request, "fragments/face_detail.html", "face", body)


@router.get("/api/faces/{face_id}/similar", response_model=Similar, responses=responses(400, 404))
async def similar_faces(
    face_id: str,
    request: Request,
    ctx: ContextDep,
    limit: Limit = 10,
    min_score: MinScoreQuery = None,
) -> Response:
    """Look-alikes of a face, best first, never the face itself."""
    body = await blocking(catalog.similar, ctx, face_id, limit, min_score)
    return htmx(request, "fragments/similar.html", "result", body)


@router.get("/api/faces/{face_id}/graph", response_model=FaceGraph, responses=responses(400, 404))
async def face_graph(
    face_id: str, ctx: ContextDep, min_score: MinScoreQuery = None, limit: Limit = 50
) -> FaceGraph:
    """A face's neighbourhood in the look-alike graph: its strongest links (default
    `min_score`: the engine's look-alike threshold) and the links among those faces."""
    return await blocking(family.face_graph, ctx, face_id, min_score, limit)


@router.get("/api/faces/{face_id}/family", response_model=Family, responses=responses(400, 404))
async def face_family(
    face_id: str, request: Request, ctx: ContextDep, limit: Limit = 24
) -> Response:
    """The face's hidden family: its community in the look-alike graph (recomputed with the
    averages), never the face itself."""
    body = await blocking(family.family, ctx, face_id, limit)
    return htmx(request, "fragments/family.html", "family", body)


@router.get(
    "/api/faces/{face_id}/path/{other_id}",
    response_model=FacePath,
    responses={
        **responses(400),
        404: {"model": ErrorBody, "description": "`not_found`, `no_path`"},
    },
)
async def face_path(face_id: str, other_id: str, request: Request, ctx: ContextDep) -> Response:
    """The shortest chain of look-alike links from one face to another, both included;
    404 `no_path` when none joins them."""
    body = await blocking(family.path, ctx, face_id, other_id)
    return htmx(request, "fragments/path.html", "path", body)


@router.post(
    "/api/lookalikes",
    response_model=Lookalikes,
    responses=responses(400, 404, 413, 415, 422, 429),
)
async def lookalikes(
    request: Request,
    ctx: ContextDep,
    _: RateLimitDep,
    file: FileForm,
    event: EventForm = DEFAULT_EVENT,
    limit: Annotated[int, Form(ge=1, le=MAX_PAGE)] = 10,
) -> Response:
    """Look-alikes for the largest face in a photo; nothing is stored."""
    await blocking(events.require, ctx, event)
    data = await read_upload(file, ctx.settings.max_upload_bytes)
    body = await blocking(catalog.lookalikes, ctx, data, event, limit, None)
    return htmx(request, "fragments/similar.html", "result", body)


@router.get("/api/engine", response_model=Engine, responses=responses())
async def engine(ctx: ContextDep) -> Engine:
    """The engine in use: models, embedding size, metric and thresholds."""
    return await blocking(catalog.engine_info, ctx)


def create_app(settings: Settings | None = None) -> FastAPI:
    # Events ride with the catalog on Lambda: `GET /api/faces/{proxy+}` already reaches it.
    from functions import events as event_routes

    return create_function("Huchu catalog", [router, event_routes.router], settings or Settings())


handler = lazy_handler(create_app)
