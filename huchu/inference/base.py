"""What the use cases need from inference: bytes in, an ``Analysis`` out (synchronous)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from huchu.analysis import Analysis
from huchu.engines.base import EngineInfo
from huchu.imaging.render import Rendered, RenderSpec

T = TypeVar("T")


class Inference(Protocol):
    """Blocking calls; the HTTP edge runs them in a worker thread."""

    @property
    def backend(self) -> str: ...

    def info(self) -> EngineInfo:
        """The engine's identity and thresholds (never loads the models)."""
        ...

    def analyze(self, data: bytes) -> Analysis:
        """Decode and analyse one image; raises the decoder's typed errors."""
        ...

    def analyze_and_render(self, data: bytes, spec: RenderSpec) -> tuple[Analysis, Rendered | None]:
        """Analyse, then draw the upload's images when a face passes the gate."""
        ...

    def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a plain, picklable CPU-bound function that needs no engine (a recompute's
        warps): in a process of its own where analyses run in a pool, so that it holds no
        interpreter lock of the API's; inline otherwise."""
        ...

    def check(self) -> str:
        """Raise ``Unavailable`` unless the backend answers now; else describe it."""
        ...

    def close(self) -> None: ...
