"""The inference HTTP surface (``/analyze``, ``/info``), shared by Ray Serve and tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from huchu.engines.base import EngineInfo
from huchu.inference.wire import info_to_wire

Analyze = Callable[[bytes], Awaitable[tuple[int, dict[str, Any]]]]


Swap = Callable[[dict[str, Any]], Awaitable[tuple[int, bytes | dict[str, Any]]]]


def make_api(
    analyze: Analyze, info: Callable[[], Awaitable[EngineInfo]], swap: Swap | None = None
) -> FastAPI:
    api = FastAPI(title="Huchu inference", version="1")

    if swap is not None:

        @api.post("/swap")
        async def swap_route(request: Request) -> Response:
            """Swap an identity onto a face (JSON in, PNG out)."""
            status, body = await swap(await request.json())
            if isinstance(body, bytes):
                return Response(body, media_type="image/png", status_code=status)
            return JSONResponse(body, status_code=status)

    @api.post("/analyze")
    async def analyze_route(request: Request) -> JSONResponse:
        """Analyse the raw image bytes in the body."""
        status, body = await analyze(await request.body())
        return JSONResponse(body, status_code=status)

    @api.get("/info")
    async def info_route() -> dict[str, Any]:
        """Which engine answers, its dimension, metric and thresholds."""
        return info_to_wire(await info()) | {"swap": swap is not None}

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api


def make_local_api(engine: Any, spec: Any, swapper: Any = None) -> FastAPI:
    """The same surface without Ray: one engine (and swapper) in a worker thread."""
    import asyncio

    from serve.batching import analyze_one, swap_one

    lock = asyncio.Lock()

    async def analyze(data: bytes) -> tuple[int, dict[str, Any]]:
        async with lock:
            return await asyncio.to_thread(analyze_one, engine, spec, data)

    async def info() -> EngineInfo:
        info: EngineInfo = engine.info
        return info

    async def swap(body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
        async with lock:
            return await asyncio.to_thread(swap_one, swapper, body)

    return make_api(analyze, info, swap if swapper is not None else None)
