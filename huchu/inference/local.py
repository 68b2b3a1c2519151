"""In-process inference: the engine in this process, or in a pool of processes.

Nothing heavy happens at construction: the engine (or the pool) is built on the
first analysis, so reads that never analyse an image never load a model.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from huchu.analysis import Analysis, EngineSpec, analyze_and_render, analyze_with
from huchu.engines.base import EngineInfo, FaceEngine
from huchu.engines.factory import resolve_engine_name
from huchu.engines.infos import static_info
from huchu.errors import Unavailable
from huchu.imaging.render import Rendered, RenderSpec

_worker: tuple[FaceEngine, EngineSpec] | None = None


T = TypeVar("T")
ASIDE_NICE = 10


def worker_init(spec: EngineSpec) -> None:
    """Process-pool initializer: one engine per worker process."""
    global _worker
    _worker = (spec.build(), spec)


def aside_init() -> None:
    """The offloaded work's process: background work, so it yields the CPU to requests."""
    import os

    os.nice(ASIDE_NICE)


def worker_analyze(data: bytes) -> Analysis:
    assert _worker is not None
    return analyze_with(_worker[0], _worker[1], data)


def worker_analyze_render(data: bytes, rspec: RenderSpec) -> tuple[Analysis, Rendered | None]:
    assert _worker is not None
    return analyze_and_render(_worker[0], _worker[1], data, rspec)


class LocalInference:
    """The same plain functions as the Ray deployment, run next to the API.

    ``workers <= 1`` keeps one engine in this process behind a lock (engines
    are not re-entrant); more workers start a process pool, one engine each.
    """

    backend = "in-process"

    def __init__(self, spec: EngineSpec, workers: int = 1, engine: FaceEngine | None = None):
        self.spec = spec
        self.workers = workers
        self._engine = engine
        self._lock = threading.Lock()
        self._procs: cf.ProcessPoolExecutor | None = None
        self._aside: cf.ProcessPoolExecutor | None = None  # offloaded work: one process

    def info(self) -> EngineInfo:
        if self._engine is not None:
            return self._engine.info
        spec = self.spec
        return static_info(
            resolve_engine_name(spec.name, spec.models_dir), spec.models_dir, spec.detector
        )

    @property
    def engine(self) -> FaceEngine:
        with self._lock:
            if self._engine is None:
                self._engine = self.spec.build()
            return self._engine

    def _pool(self) -> cf.ProcessPoolExecutor | None:
        if self.workers <= 1:
            return None
        with self._lock:
            if self._procs is None:
                import multiprocessing as mp

                self._procs = cf.ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=mp.get_context("spawn"),
                    initializer=worker_init,
                    initargs=(self.spec,),
                )
            return self._procs

    def _result(self, pool: cf.ProcessPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` run in ``pool``; a pool whose process died (killed, out of memory) is
        dropped, so that the next call starts a fresh one instead of failing for good."""
        try:
            return pool.submit(fn, *args).result()
        except cf.process.BrokenProcessPool as exc:
            with self._lock:
                if self._procs is pool:
                    self._procs = None
                if self._aside is pool:
                    self._aside = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise Unavailable("an inference process stopped; try again") from exc

    def analyze(self, data: bytes) -> Analysis:
        pool = self._pool()
        if pool is not None:
            return self._result(pool, worker_analyze, data)
        engine = self.engine
        with self._lock:
            return analyze_with(engine, self.spec, data)

    def analyze_and_render(self, data: bytes, spec: RenderSpec) -> tuple[Analysis, Rendered | None]:
        pool = self._pool()
        if pool is not None:
            return self._result(pool, worker_analyze_render, data, spec)
        engine = self.engine
        with self._lock:
            return analyze_and_render(engine, self.spec, data, spec)

    def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """With a pool, in one process of its own (no engine in it): a recompute's warps
        get their own share of the CPU, as they had in the API's process, without the
        API's interpreter lock. Queued behind the analyses instead, they fell behind a
        steady upload load (1.6 faces warped a second, 4.7 stored)."""
        if self.workers <= 1:
            return fn(*args)
        with self._lock:
            if self._aside is None:
                import multiprocessing as mp

                self._aside = cf.ProcessPoolExecutor(
                    max_workers=1, mp_context=mp.get_context("spawn"), initializer=aside_init
                )
            aside = self._aside
        return self._result(aside, fn, *args)

    def check(self) -> str:
        info = self.info()
        return f"in-process {info.engine} ({info.embedding_dim}-d)"

    def close(self) -> None:
        with self._lock:
            pools = [self._procs, self._aside]
            self._procs = self._aside = None
        for procs in pools:
            if procs is not None:
                procs.shutdown(wait=True, cancel_futures=True)
