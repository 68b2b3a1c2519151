"""``huchu serve``: every function on one server, the web page at ``/``, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response

from functions import admin, averages, catalog, events, photos
from functions.app import BodyLimit, add_cors
from functions.cards import CardCache
from functions.deps import ContextDep, blocking
from functions.errors import install, responses
from functions.headers import SecurityHeaders, page_csp
from functions.ratelimit import RateLimiter, parse_networks
from huchu.context import Context
from huchu.errors import Forbidden, NotFound, error_body
from huchu.health import diagnose
from huchu.photos.staged import PROCESSED, STAGING, was_processed
from huchu.photos.sweep import sweep
from huchu.schemas import Health, Readiness
from huchu.stores.objects import LocalObjectStore

log = logging.getLogger("huchu.serve")


def ops_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    async def readyz(ctx: ContextDep) -> Response:
        """Stores, the graph, inference and the data volume, checked afresh on every call;
        ``serving`` stays true while only the look-alike graph is away."""
        checks = await blocking(diagnose, ctx)
        missing = [f"{c.name}: {c.detail}" for c in checks if not c.ok]
        serving = all(c.ok or c.name == "graph" for c in checks)
        ready = Readiness(
            status="unavailable" if missing else "ready",
            checks={c.name: c.detail for c in checks},
            missing=missing,
            error=error_body("unavailable", "; ".join(missing))["error"] if missing else None,
            serving=serving,
        )
        return JSONResponse(ready.model_dump(mode="json"), status_code=503 if missing else 200)

    @router.get("/files/{key:path}", include_in_schema=False, responses=responses(404))
    async def files(ctx: ContextDep, key: str, exp: int = 0, sig: str = "") -> Response:
        store = ctx.objects
        if not isinstance(store, LocalObjectStore) or not store.signer.verify(key, exp, sig):
            raise NotFound("no such file")
        data = await blocking(store.get, key)
        return Response(
            data,
            media_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
            headers={"Cache-Control": "private, max-age=600"},
        )

    @router.put("/files/{key:path}", include_in_schema=False, responses=responses(403, 404))
    async def put_file(
        request: Request, ctx: ContextDep, key: str, exp: int = 0, sig: str = ""
    ) -> Response:
        # The local store's answer to a presigned PUT: only staging keys, only the signed
        # type and size (as S3 checks its signed Content-Type and Content-Length).
        store = ctx.objects
        data = await request.body()
        kind = request.headers.get("content-type", "")
        if (
            not isinstance(store, LocalObjectStore)
            or not key.startswith(STAGING)
            or key.startswith(PROCESSED)
            or not store.signer.verify_put(key, exp, sig, kind, len(data))
        ):
            raise Forbidden("the signature does not match this request")
        if await blocking(was_processed, ctx, key):
            raise Forbidden("this upload has been processed already: start a new one")
        await blocking(store.put, key, data, kind)
        return Response(status_code=200)

    return router


def create_embedded_app(
    ctx: Context, site_dir: Path | None = None, scheduler: bool = True
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if scheduler:
            # This process owns the data dir: whatever a crash left behind goes now.
            swept = await blocking(sweep, ctx, 0.0)
            if swept:
                log.warning("cleared what an earlier crash left: %s", dict(swept))
        if scheduler and ctx.settings.recompute_seconds > 0:
            task = asyncio.create_task(averages.schedule_loop(ctx))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    app = FastAPI(title="Huchu", version="1", lifespan=lifespan)
    app.state.context = ctx
    app.state.rate_limiter = RateLimiter(ctx.settings.rate_limit_per_minute)
    app.state.admin_failures = RateLimiter(ctx.settings.admin_failures_per_minute)
    app.state.cards = CardCache(ctx.settings.cards_per_minute)
    app.state.max_upload_bytes = ctx.settings.max_upload_bytes  # for OpenAPI
    app.state.trusted_proxies = parse_networks(ctx.settings.trusted_proxies)
    install(app)
    for router in (
        photos.router,
        photos.staged_router,
        events.router,
        events.setup_router,
        catalog.router,
        admin.router,
        averages.router,
        ops_router(),
    ):
        app.include_router(router)
    if site_dir is not None and site_dir.is_dir():
        from functions.site import SiteFiles

        # What no route takes: mounted at "/", the site would match every path and method
        # first, and a route's 405 (wrong method) would become the site's 404 or 405.
        app.router.default = SiteFiles(directory=site_dir, html=True)
    app.add_middleware(BodyLimit, max_bytes=ctx.settings.max_upload_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    add_cors(app, ctx.settings)
    app.add_middleware(SecurityHeaders, page_csp=page_csp(ctx.settings))
    return app
