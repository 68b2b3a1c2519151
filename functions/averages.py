"""Averages function: the game's averages, history, leaderboard and scheduled recompute."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from functions.app import create_app as create_function
from functions.app import lazy_handler
from functions.aws import schedule_target
from functions.deps import AdminDep, CohortQuery, ContextDep, Limit, blocking
from functions.errors import responses
from functions.events import KnownEvent
from functions.fragments import htmx
from huchu.config import Settings
from huchu.context import Context
from huchu.errors import HuchuError
from huchu.game import ranking, state
from huchu.game import recompute as game
from huchu.photos import family, validate
from huchu.photos.sweep import sweep
from huchu.schemas import Averages, EventGraph, History, Leaderboard

log = logging.getLogger("huchu.averages")

router = APIRouter(tags=["averages"])


@router.get("/api/averages", response_model=Averages, responses=responses(400, 404))
async def averages(request: Request, ctx: ContextDep, event: KnownEvent) -> Response:
    """The current version of the event's averages (empty before the first recompute)."""
    body = state.public(ctx, await blocking(state.current, ctx, event), event)
    return htmx(request, "fragments/averages.html", "averages", body)


@router.get("/api/averages/history", response_model=History, responses=responses(400, 404))
async def history(ctx: ContextDep, event: KnownEvent, cohort: CohortQuery = "all") -> History:
    """Every version of a cohort's average, newest first."""
    return await blocking(state.history, ctx, event, cohort)


@router.get("/api/leaderboard", response_model=Leaderboard, responses=responses(400, 404))
async def leaderboard(
    request: Request,
    ctx: ContextDep,
    event: KnownEvent,
    cohort: CohortQuery = "all",
    limit: Limit = 10,
) -> Response:
    """Faces ranked by similarity to the cohort's average; rank 1 is the winner."""
    body = await blocking(ranking.leaderboard, ctx, event, cohort, limit)
    return htmx(request, "fragments/leaderboard.html", "board", body)


@router.get(
    "/api/graph",
    response_model=EventGraph,
    responses={
        **responses(400, 404),
        200: {"content": {"application/graphml+xml": {"schema": {"type": "string"}}}},
    },
)
async def event_graph(
    ctx: ContextDep,
    event: KnownEvent,
    format: Annotated[Literal["json", "graphml"], Query()] = "json",
) -> Response:
    """Every face of the event and every look-alike link, with the hidden families as
    clusters, from the graph database (JSON or GraphML)."""
    if format == "json":
        return JSONResponse(
            (await blocking(family.event_graph, ctx, event)).model_dump(mode="json")
        )
    data = await blocking(family.event_graphml, ctx, event)
    disposition = f'attachment; filename="{event}.graphml"'
    return Response(
        data, media_type="application/graphml+xml", headers={"Content-Disposition": disposition}
    )


@router.post(
    "/api/averages/recompute", response_model=Averages, responses=responses(400, 403, 404, 429)
)
async def recompute_now(ctx: ContextDep, _: AdminDep, event: KnownEvent) -> Averages:
    """Recompute now (admin)."""
    return await blocking(game.recompute, ctx, event)


# Uploads and deletes in flight elsewhere are younger than this; older leftovers are swept.
SWEEP_AFTER_S = 600.0


def recompute_all(ctx: Context, sweep_after_s: float = SWEEP_AFTER_S) -> dict[str, int]:
    """Leftovers of crashed requests swept, then every event that has photos recomputed."""
    try:
        swept = sweep(ctx, sweep_after_s)
    except HuchuError as exc:  # what is left stays for the next sweep; the game goes on
        log.warning("sweep stopped: %s", exc)
    else:
        if swept:
            log.info("swept %s", dict(swept))
    return {ev: game.recompute(ctx, ev).version for ev in ctx.vectors.values(ctx.photos, "event")}


async def schedule_loop(ctx: Context) -> None:
    """Recompute every ``HUCHU_RECOMPUTE_SECONDS`` in the embedded app."""
    while True:
        await asyncio.sleep(ctx.settings.recompute_seconds)
        try:
            versions = await blocking(recompute_all, ctx)
            log.info("scheduled recompute: %s", versions)
        except Exception:
            log.exception("scheduled recompute failed")


def schedule_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """AWS EventBridge target (not through Mangum): ``{"event": "<slug>" | "*"}``."""
    from functions.deps import default_context

    ctx = default_context()
    wanted = event.get("event")
    if wanted in (None, "*"):
        return {"versions": recompute_all(ctx)}
    ev = validate.event(wanted)
    return {"versions": {ev: game.recompute(ctx, ev).version}}


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_function("Huchu averages", [router], settings or Settings())


_http = lazy_handler(create_app)


def handler(event: dict[str, Any], context: Any) -> Any:
    """Schedules go to the recompute; everything else is HTTP through Mangum."""
    target = schedule_target(event)
    if target is not None:
        return schedule_handler({"event": target}, context)
    return _http(event, context)
