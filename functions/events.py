"""Events function: set-up (admin), counts, the QR poster code, share cards, standings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response

from functions.app import create_app as create_function
from functions.app import lazy_handler
from functions.cards import card_response
from functions.deps import AdminDep, ContextDep, EventQuery, blocking, get_context
from functions.errors import responses
from functions.fragments import htmx, lang
from huchu import events, sharing
from huchu.config import DEFAULT_EVENT, EVENT_PATTERN, Settings
from huchu.game.standing import standing
from huchu.schemas import EventInfo, EventSetup, Standing

router = APIRouter(tags=["events"])
# The one write: served by the admin function on Lambda, whose role may write event set-ups.
setup_router = APIRouter(tags=["events"])

EventPath = Annotated[str, Path(pattern=EVENT_PATTERN, description="the event's slug")]


async def known_event(request: Request, event: EventQuery = DEFAULT_EVENT) -> str:
    """Reads name an event that exists (``default`` always does): 404 ``not_found`` otherwise."""
    await blocking(events.require, get_context(request), event)
    return event


KnownEvent = Annotated[str, Depends(known_event)]


@router.get("/api/events/{event}", response_model=EventInfo, responses=responses(400, 404))
async def get_event(event: EventPath, request: Request, ctx: ContextDep) -> Response:
    """An event's set-up and its counts so far (photos, faces, persons, version)."""
    body = await blocking(events.info, ctx, event)
    return htmx(request, "fragments/event.html", "info", body)


@setup_router.put(
    "/api/events/{event}", response_model=EventInfo, responses=responses(400, 403, 429)
)
async def put_event(event: EventPath, body: EventSetup, ctx: ContextDep, _: AdminDep) -> EventInfo:
    """Set up or change an event (admin): name, dates, open or closed."""
    return await blocking(events.put, ctx, event, body)


@router.get(
    "/api/events/{event}/qr.svg",
    response_class=Response,
    responses={**responses(400, 404), 200: {"content": {"image/svg+xml": {}}}},
)
async def event_qr(event: EventPath, request: Request, ctx: ContextDep) -> Response:
    """An SVG QR code of the event's participant page (``HUCHU_SITE_URL``)."""
    data = await blocking(sharing.qr_svg, ctx, event, str(request.base_url))
    return Response(data, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})


@router.get(
    "/api/faces/{face_id}/card.png",
    response_class=Response,
    responses={**responses(400, 404, 429), 200: {"content": {"image/png": {}}}},
)
async def face_card(
    face_id: str,
    request: Request,
    ctx: ContextDep,
    lang_: Annotated[Literal["ko", "en"] | None, Query(alias="lang")] = None,
) -> Response:
    """A 1080x1350 share card: portrait, event, current average, rank, best look-alike."""
    return await card_response(request, ctx, face_id, lang_ or lang(request), "png")  # type: ignore[arg-type]  # lang() answers ko or en


@router.get(
    "/api/faces/{face_id}/card.jpg",
    response_class=Response,
    responses={**responses(400, 404, 429), 200: {"content": {"image/jpeg": {}}}},
)
async def face_card_jpeg(
    face_id: str,
    request: Request,
    ctx: ContextDep,
    lang_: Annotated[Literal["ko", "en"] | None, Query(alias="lang")] = None,
) -> Response:
    """The same share card as a JPEG of at most 200 KB: what the page's share button posts."""
    return await card_response(request, ctx, face_id, lang_ or lang(request), "jpeg")  # type: ignore[arg-type]  # lang() answers ko or en


@router.get("/api/faces/{face_id}/standing", response_model=Standing, responses=responses(400, 404))
async def face_standing(face_id: str, request: Request, ctx: ContextDep) -> Response:
    """A face's closeness to the event's average, its rank, and its best look-alikes."""
    body = await blocking(standing, ctx, face_id)
    name = await blocking(events.name, ctx, body.event)
    return htmx(request, "fragments/standing.html", "standing", body, event_name=name)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_function("Huchu events", [router, setup_router], settings or Settings())


handler = lazy_handler(create_app)
