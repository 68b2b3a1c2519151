"""What the functions need from inference: bytes in, an ``Analysis`` out."""

from __future__ import annotations

from typing import Protocol

from huchu.analysis import Analysis
from huchu.engines.base import EngineInfo
from huchu.photos.render import Rendered, RenderSpec


class Inference(Protocol):
    @property
    def info(self) -> EngineInfo: ...

    @property
    def backend(self) -> str: ...

    async def analyze(self, data: bytes) -> Analysis:
        """Decode and analyse one image; raises the decoder's typed errors."""
        ...

    async def analyze_and_render(
        self, data: bytes, spec: RenderSpec
    ) -> tuple[Analysis, Rendered | None]:
        """Analyse, then draw the upload's images when a face passes the gate."""
        ...

    def close(self) -> None: ...
