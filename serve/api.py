"""The inference HTTP surface (``/analyze``, ``/info``), shared by Ray Serve and tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from huchu.engines.base import EngineInfo
from huchu.inference.wire import info_to_wire

Analyze = Callable[[bytes], Awaitable[tuple[int, dict[str, Any]]]]


def make_api(analyze: Analyze, info: Callable[[], Awaitable[EngineInfo]]) -> FastAPI:
    api = FastAPI(title="Huchu inference", version="1")

    @api.post("/analyze")
    async def analyze_route(request: Request) -> JSONResponse:
        """Analyse the raw image bytes in the body."""
        status, body = await analyze(await request.body())
        return JSONResponse(body, status_code=status)

    @api.get("/info")
    async def info_route() -> dict[str, Any]:
        """Which engine answers, its dimension, metric and thresholds."""
        return info_to_wire(await info())

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api


def make_local_api(engine: Any, spec: Any) -> FastAPI:
    """The same surface without Ray: one engine in a worker thread."""
    import asyncio

    from serve.batching import analyze_one

    lock = asyncio.Lock()

    async def analyze(data: bytes) -> tuple[int, dict[str, Any]]:
        async with lock:
            return await asyncio.to_thread(analyze_one, engine, spec, data)

    async def info() -> EngineInfo:
        info: EngineInfo = engine.info
        return info

    return make_api(analyze, info)
