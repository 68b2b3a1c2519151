"""Averages function: the game's averages, history, leaderboard and scheduled recompute."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request, Response

from functions.deps import AdminDep, ContextDep
from functions.fragments import htmx
from huchu.context import Context
from huchu.errors import BadRequest
from huchu.game import recompute as game
from huchu.game.leaderboard import leaderboard as board
from huchu.game.snapshots import current, public
from huchu.game.snapshots import history as versions
from huchu.photos import validate

log = logging.getLogger("huchu.averages")

router = APIRouter(tags=["averages"])


def _cohort(value: str | None) -> str:
    if value in (None, ""):
        return "all"
    if value not in ("female", "male", "all"):
        raise BadRequest("cohort must be female, male or all")
    return value


@router.get("/api/averages")
async def averages(request: Request, ctx: ContextDep, event: str | None = None) -> Any:
    """The current version of the event's averages (empty before the first recompute)."""
    ev = validate.event(event)
    body = public(ctx, await asyncio.to_thread(current, ctx, ev), ev)
    return htmx(request, "fragments/averages.html", {"averages": body}, body)


@router.get("/api/averages/history")
async def history(
    ctx: ContextDep, event: str | None = None, cohort: str | None = None
) -> dict[str, Any]:
    """Every version of a cohort's average, newest first."""
    return await asyncio.to_thread(versions, ctx, validate.event(event), _cohort(cohort))


@router.get("/api/leaderboard")
async def leaderboard(
    request: Request,
    ctx: ContextDep,
    event: str | None = None,
    cohort: str | None = None,
    limit: int | None = None,
) -> Any:
    """Faces ranked by similarity to the cohort's average; rank 1 is the winner."""
    body = await asyncio.to_thread(
        board, ctx, validate.event(event), _cohort(cohort), validate.limit(limit, 10)
    )
    return htmx(request, "fragments/leaderboard.html", {"board": body}, body)


@router.get("/api/graph")
async def event_graph(ctx: ContextDep, event: str | None = None, format: str = "json") -> Response:
    """The event-wide look-alike graph of the current version (JSON or GraphML)."""
    from huchu.errors import NotFound
    from huchu.game.snapshots import graph_key

    if format not in ("json", "graphml"):
        raise BadRequest("format must be json or graphml")
    ev = validate.event(event)
    key = await asyncio.to_thread(graph_key, ctx, ev, format)
    if key is None:
        raise NotFound("no graph yet: it is made by the next recompute")
    data = await asyncio.to_thread(ctx.objects.get, key)
    media = "application/json" if format == "json" else "application/graphml+xml"
    headers = (
        {} if format == "json" else {"Content-Disposition": f'attachment; filename="{ev}.graphml"'}
    )
    return Response(data, media_type=media, headers=headers)


@router.post("/api/averages/recompute")
async def recompute_now(ctx: ContextDep, _: AdminDep, event: str | None = None) -> dict[str, Any]:
    """Recompute now (admin)."""
    return await asyncio.to_thread(game.recompute, ctx, validate.event(event))


def recompute_all(ctx: Context) -> dict[str, int]:
    """Every event that has photos; an event with nothing new keeps its version."""
    return {
        ev: game.recompute(ctx, ev)["version"] for ev in ctx.vectors.values(ctx.photos, "event")
    }


async def schedule_loop(ctx: Context) -> None:
    """Recompute every ``HUCHU_RECOMPUTE_SECONDS`` in the embedded app."""
    while True:
        await asyncio.sleep(ctx.settings.recompute_seconds)
        try:
            versions = await asyncio.to_thread(recompute_all, ctx)
            log.info("scheduled recompute: %s", versions)
        except Exception:
            log.exception("scheduled recompute failed")


def schedule_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """AWS EventBridge Scheduler target (not through Mangum): {"event": "<slug>" | "*"}."""
    from functions.deps import default_context

    ctx = default_context()
    wanted = event.get("event") if isinstance(event, dict) else None
    if wanted in (None, "*"):
        return {"versions": recompute_all(ctx)}
    ev = validate.event(wanted)
    return {"versions": {ev: game.recompute(ctx, ev)["version"]}}


def _app() -> Any:
    from functions.app import create_app, lambda_handler

    app = create_app("Huchu averages", [router])
    asgi = lambda_handler(app)

    def handler(event: dict[str, Any], context: object) -> Any:
        from functions.aws import schedule_target

        target = schedule_target(event)
        if target is not None:  # Scheduler input or a classic "Scheduled Event": not HTTP
            return schedule_handler({"event": target}, context)
        return asgi(event, context)

    return handler


handler = _app()
