"""``huchu serve``: every function on one server, the web page at ``/``, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response

from functions import admin, catalog, photos
from functions.app import BodyLimit, add_cors
from functions.errors import error_response, install
from huchu.context import Context
from huchu.errors import NotFound
from huchu.stores.objects import LocalObjectStore

log = logging.getLogger("huchu.serve")

RATE_LIMITED = {("POST", "/api/photos"), ("POST", "/api/lookalikes")}


class RateLimit:
    """Per-client sliding window on the expensive calls, for the embedded app."""

    def __init__(self, app: Any, per_minute: int) -> None:
        self.app = app
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            self.per_minute > 0
            and scope["type"] == "http"
            and (scope["method"], scope["path"]) in RATE_LIMITED
        ):
            client = (scope.get("client") or ("?", 0))[0]
            now = time.monotonic()
            window = self.seen[client]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                from starlette.requests import Request as StarletteRequest

                response = error_response(
                    StarletteRequest(scope), 429, "rate_limited", "too many uploads; wait a minute"
                )
                await response(scope, receive, send)
                return
            window.append(now)
        await self.app(scope, receive, send)


def ops_router(ctx: Context) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> Response:
        """The stores and the engine answer."""
        missing = await asyncio.to_thread(_missing, ctx)
        if missing:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "missing": missing,
                    "error": {"code": "unavailable", "message": "; ".join(missing)},
                },
                status_code=503,
            )
        return JSONResponse({"status": "ready", "engine": ctx.inference.info.engine})

    @router.get("/files/{key:path}", include_in_schema=False)
    async def files(key: str, exp: int = 0, sig: str = "") -> Response:
        store = ctx.objects
        if not isinstance(store, LocalObjectStore) or not store.signer.verify(key, exp, sig):
            raise NotFound("no such file")
        data = await asyncio.to_thread(store.get, key)
        return Response(
            data,
            media_type="image/jpeg" if key.endswith(".jpg") else "application/octet-stream",
            headers={"Cache-Control": "private, max-age=600"},
        )

    return router


def _missing(ctx: Context) -> list[str]:
    missing = []
    for name, check in (
        ("vectors", ctx.vectors.ping),
        ("objects", ctx.objects.ping),
        ("engine", lambda: ctx.inference.info),
    ):
        try:
            check()
        except Exception as exc:
            missing.append(f"{name}: {getattr(exc, 'message', None) or exc.__class__.__name__}")
    return missing


def create_embedded_app(
    ctx: Context, site_dir: Path | None = None, scheduler: bool = True
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if scheduler and ctx.settings.recompute_seconds > 0:
            from functions.averages import schedule_loop

            task = asyncio.create_task(schedule_loop(ctx))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    app = FastAPI(title="Huchu", version="1", lifespan=lifespan)
    app.state.context = ctx
    install(app)
    for router in (photos.router, catalog.router, admin.router, *_game_routers(), ops_router(ctx)):
        app.include_router(router)
    if site_dir is not None and site_dir.is_dir():
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=site_dir, html=True), name="site")
    app.add_middleware(BodyLimit, max_bytes=ctx.settings.max_upload_bytes)
    app.add_middleware(RateLimit, per_minute=ctx.settings.rate_limit_per_minute)
    add_cors(app, ctx.settings)
    return app


def _game_routers() -> list[APIRouter]:
    try:
        from functions import averages
    except ImportError:  # pragma: no cover
        return []
    return [averages.router]
