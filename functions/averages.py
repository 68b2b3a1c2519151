"""Averages function (the game). Filled in by the game issue; the scheduler hook lives here."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter

from huchu.context import Context

log = logging.getLogger("huchu.averages")

router = APIRouter(tags=["averages"])


async def schedule_loop(ctx: Context) -> None:
    """Recompute every ``HUCHU_RECOMPUTE_SECONDS`` in the embedded app."""
    while True:
        await asyncio.sleep(ctx.settings.recompute_seconds)


def _app() -> object:
    from functions.app import create_app, lambda_handler

    return lambda_handler(create_app("Huchu averages", [router]))


handler = _app()
