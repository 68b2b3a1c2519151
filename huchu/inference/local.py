"""In-process inference: the engine in a worker thread, or in a pool of processes."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading
from dataclasses import dataclass
from pathlib import Path

from huchu.analysis import Analysis, analyze_bytes
from huchu.engines.base import EngineInfo, FaceEngine
from huchu.engines.factory import build_engine
from huchu.photos.render import Rendered, RenderSpec, analyze_and_render


@dataclass(frozen=True)
class EngineSpec:
    """Everything a worker process needs to build the same engine."""

    name: str
    models_dir: Path
    max_side: int = 1600
    min_score: float = 0.75
    max_pixels: int = 40_000_000


_worker_engine: FaceEngine | None = None
_worker_spec: EngineSpec | None = None


def _worker_init(spec: EngineSpec) -> None:
    global _worker_engine, _worker_spec
    _worker_engine = build_engine(spec.name, spec.models_dir)
    _worker_spec = spec


def _worker_analyze(data: bytes) -> Analysis:
    assert _worker_engine is not None and _worker_spec is not None
    s = _worker_spec
    return analyze_bytes(
        _worker_engine, data, max_side=s.max_side, min_score=s.min_score, max_pixels=s.max_pixels
    )


def _worker_analyze_render(data: bytes, rspec: RenderSpec) -> tuple[Analysis, Rendered | None]:
    assert _worker_engine is not None and _worker_spec is not None
    s = _worker_spec
    return analyze_and_render(
        _worker_engine, data, rspec, max_side=s.max_side, max_pixels=s.max_pixels
    )


class LocalInference:
    """The same plain function as the Ray deployment, run next to the API.

    ``workers <= 1`` keeps one engine in this process behind a lock (engines
    are not re-entrant); more workers start a process pool, one engine each.
    """

    backend = "in-process"

    def __init__(self, spec: EngineSpec, workers: int = 1, engine: FaceEngine | None = None):
        self.spec = spec
        self._engine = engine or build_engine(spec.name, spec.models_dir)
        self._lock = threading.Lock()
        self._threads = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="huchu-infer")
        self._procs: cf.ProcessPoolExecutor | None = None
        if workers > 1:
            import multiprocessing as mp

            self._procs = cf.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=mp.get_context("spawn"),
                initializer=_worker_init,
                initargs=(spec,),
            )

    @property
    def info(self) -> EngineInfo:
        return self._engine.info

    @property
    def engine(self) -> FaceEngine:
        return self._engine

    def analyze_sync(self, data: bytes) -> Analysis:
        s = self.spec
        with self._lock:
            return analyze_bytes(
                self._engine,
                data,
                max_side=s.max_side,
                min_score=s.min_score,
                max_pixels=s.max_pixels,
            )

    async def analyze(self, data: bytes) -> Analysis:
        loop = asyncio.get_running_loop()
        if self._procs is not None:
            return await loop.run_in_executor(self._procs, _worker_analyze, data)
        return await loop.run_in_executor(self._threads, self.analyze_sync, data)

    def analyze_and_render_sync(
        self, data: bytes, rspec: RenderSpec
    ) -> tuple[Analysis, Rendered | None]:
        s = self.spec
        with self._lock:
            return analyze_and_render(
                self._engine, data, rspec, max_side=s.max_side, max_pixels=s.max_pixels
            )

    async def analyze_and_render(
        self, data: bytes, spec: RenderSpec
    ) -> tuple[Analysis, Rendered | None]:
        loop = asyncio.get_running_loop()
        if self._procs is not None:
            return await loop.run_in_executor(self._procs, _worker_analyze_render, data, spec)
        return await loop.run_in_executor(self._threads, self.analyze_and_render_sync, data, spec)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._procs is not None:
            self._procs.shutdown(wait=False, cancel_futures=True)
