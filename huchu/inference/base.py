"""What the functions need from inference: bytes in, an ``Analysis`` out."""

from __future__ import annotations

from typing import Protocol

from huchu.analysis import Analysis
from huchu.engines.base import EngineInfo


class Inference(Protocol):
    @property
    def info(self) -> EngineInfo: ...

    @property
    def backend(self) -> str: ...

    async def analyze(self, data: bytes) -> Analysis:
        """Decode and analyse one image; raises the decoder's typed errors."""
        ...

    def close(self) -> None: ...
