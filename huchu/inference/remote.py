"""Inference over HTTP: the Ray Serve app in ``serve/``."""

from __future__ import annotations

from typing import Any

import httpx

from huchu.analysis import Analysis
from huchu.engines.base import EngineInfo
from huchu.errors import HuchuError, Unavailable
from huchu.inference.wire import analysis_from_wire, info_from_wire
from huchu.photos.render import Rendered, RenderSpec, render_bytes

_ERRORS: dict[str, type[HuchuError]] = {}


def _error_types() -> dict[str, type[HuchuError]]:
    if not _ERRORS:
        from huchu import errors

        for cls in vars(errors).values():
            if isinstance(cls, type) and issubclass(cls, HuchuError):
                _ERRORS[cls.code] = cls
    return _ERRORS


class HttpInference:
    """POSTs image bytes to ``{url}/analyze``; errors come back as contract codes."""

    backend = "ray-serve"

    def __init__(self, url: str, timeout: float = 60.0, max_pixels: int = 40_000_000) -> None:
        self.url = url.rstrip("/")
        self.max_pixels = max_pixels
        self._timeout = timeout
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._info: EngineInfo | None = None

    def _client(self) -> httpx.AsyncClient:
        # One pooled client per event loop: a client cannot outlive its loop.
        import asyncio

        key = id(asyncio.get_running_loop())
        client = self._clients.get(key)
        if client is None:
            self._clients = {key: httpx.AsyncClient(timeout=self._timeout)}
            client = self._clients[key]
        return client

    @property
    def info(self) -> EngineInfo:
        if self._info is None:
            try:
                r = httpx.get(f"{self.url}/info", timeout=10.0)
                r.raise_for_status()
            except httpx.HTTPError as exc:
                raise Unavailable(f"inference service at {self.url} is unreachable") from exc
            self._info = info_from_wire(r.json())
        return self._info

    async def analyze(self, data: bytes) -> Analysis:
        try:
            r = await self._client().post(
                f"{self.url}/analyze",
                content=data,
                headers={"content-type": "application/octet-stream"},
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"inference service at {self.url} is unreachable") from exc
        body: dict[str, Any] = (
            r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        )
        if r.status_code != 200:
            err = body.get("error", {})
            cls = _error_types().get(err.get("code", ""), Unavailable)
            raise cls(err.get("message", f"inference failed with HTTP {r.status_code}"))
        return analysis_from_wire(body)

    async def analyze_and_render(
        self, data: bytes, spec: RenderSpec
    ) -> tuple[Analysis, Rendered | None]:
        import asyncio

        analysis = await self.analyze(data)
        rendered = await asyncio.to_thread(render_bytes, data, analysis, spec, self.max_pixels)
        return analysis, rendered

    def close(self) -> None:
        pass
