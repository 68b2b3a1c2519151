"""Inference over HTTP: the Ray Serve app in ``serve/``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from huchu.analysis import Analysis
from huchu.engines.base import EngineInfo
from huchu.errors import HuchuError, Unavailable, error_type
from huchu.imaging.render import Rendered, RenderSpec, render_bytes
from huchu.inference.wire import analysis_from_wire, info_from_wire

T = TypeVar("T")


class HttpInference:
    """POSTs image bytes to ``{url}/analyze``; errors come back as contract codes."""

    backend = "ray-serve"

    def __init__(
        self, url: str, max_pixels: int, expected: EngineInfo | None = None, timeout: float = 60.0
    ) -> None:
        self.url = url.rstrip("/")
        self.max_pixels = max_pixels
        self._client = httpx.Client(timeout=timeout)  # thread-safe, pooled
        # With HUCHU_ENGINE named, reads know the collection without asking the
        # service, so browsing and recomputes work while inference is down.
        self._info: EngineInfo | None = expected
        self._lock = threading.Lock()

    def _get(self, path: str, timeout: float) -> httpx.Response:
        try:
            r = self._client.get(f"{self.url}{path}", timeout=timeout)
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise Unavailable(f"inference service at {self.url} is unreachable") from exc
        return r

    def info(self) -> EngineInfo:
        with self._lock:
            if self._info is None:
                self._info = info_from_wire(self._get("/info", 10.0).json())
            return self._info

    def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """The Ray service analyses; anything else runs here (a function instance of its own)."""
        return fn(*args)

    def check(self) -> str:
        self._get("/healthz", 3.0)
        return f"ray serve at {self.url}"

    def analyze(self, data: bytes) -> Analysis:
        try:
            r = self._client.post(
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
            cls: type[HuchuError] = error_type(err.get("code", "")) or Unavailable
            raise cls(err.get("message", f"inference failed with HTTP {r.status_code}"))
        return analysis_from_wire(body)

    def analyze_and_render(self, data: bytes, spec: RenderSpec) -> tuple[Analysis, Rendered | None]:
        analysis = self.analyze(data)
        reasons, rendered = render_bytes(data, analysis.faces, spec, self.max_pixels)
        return analysis.judged(reasons), rendered

    def close(self) -> None:
        self._client.close()
