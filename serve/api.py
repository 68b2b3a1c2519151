"""The inference HTTP surface (``/analyze``, ``/info``, ``/swap``), written once.

``create_api`` takes a backend: the Ray ``Ingress`` passes one that calls its
deployment handles, tests and ``huchu`` pass ``LocalBackend`` (engine in a thread).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from huchu.analysis import EngineSpec
from huchu.engines.base import EngineInfo, FaceEngine
from huchu.inference.wire import info_to_wire
from serve.batching import Answer, analyze_batch, swap_one

BATCH_HEADER = "x-huchu-batch-size"


class Backend(Protocol):
    """What the routes need: analyse bytes, describe the engine, swap when a swapper exists."""

    @property
    def can_swap(self) -> bool: ...

    async def analyze(self, data: bytes) -> Answer: ...

    async def info(self) -> EngineInfo: ...

    async def swap(self, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]: ...


def create_api(backend: Backend) -> FastAPI:
    """The FastAPI app both ``@serve.ingress`` and the in-process server run."""
    api = FastAPI(title="Huchu inference", version="1")

    @api.post("/analyze")
    async def analyze(request: Request) -> JSONResponse:
        """Analyse the raw image bytes in the body."""
        answer = await backend.analyze(await request.body())
        headers = {BATCH_HEADER: str(answer.batch_size)}
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    @api.post("/swap")
    async def swap(request: Request) -> Response:
        """Swap an identity onto a face (JSON in, PNG out)."""
        if not backend.can_swap:
            error = {"code": "not_found", "message": "no inswapper model here"}
            return JSONResponse({"error": error}, status_code=404)
        status, body = await backend.swap(await request.json())
        if isinstance(body, bytes):
            return Response(body, media_type="image/png", status_code=status)
        return JSONResponse(body, status_code=status)

    @api.get("/info")
    async def info() -> dict[str, Any]:
        """Which engine answers, its dimension, metric and thresholds, and whether it swaps."""
        return info_to_wire(await backend.info()) | {"swap": backend.can_swap}

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The HTTP server is up (``/info`` needs the detector)."""
        return {"status": "ok"}

    return api


class LocalBackend:
    """One engine (and swapper) in this process, one request at a time in a worker thread."""

    def __init__(self, engine: FaceEngine, spec: EngineSpec, swapper: Any = None) -> None:
        self.engine = engine
        self.spec = spec
        self.swapper = swapper
        self._lock = asyncio.Lock()

    @property
    def can_swap(self) -> bool:
        return self.swapper is not None

    async def analyze(self, data: bytes) -> Answer:
        async with self._lock:
            answers = await asyncio.to_thread(analyze_batch, self.engine, self.spec, [data])
        return answers[0]

    async def info(self) -> EngineInfo:
        return self.engine.info

    async def swap(self, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
        async with self._lock:
            return await asyncio.to_thread(swap_one, self.swapper, body)


def create_local_api(engine: FaceEngine, spec: EngineSpec, swapper: Any = None) -> FastAPI:
    """The same surface without Ray."""
    return create_api(LocalBackend(engine, spec, swapper))
