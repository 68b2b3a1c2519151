"""The Ray Serve deployments: ``Ingress`` in front of ``Detector`` and ``Swapper``.

Their options (replicas, GPUs, batch size) come from ``serve.app.build_app``;
nothing here reads settings when imported.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, cast

from fastapi import FastAPI
from ray import serve
from ray.serve import Deployment
from ray.serve.handle import DeploymentHandle

from huchu.config import Settings
from huchu.engines.base import EngineInfo
from serve.api import Backend, create_api
from serve.batching import Answer, analyze_batch, detector_spec, swap_one


class _Tunable(Protocol):
    """What ``@serve.batch`` adds to the method it wraps."""

    def set_max_batch_size(self, new_max_batch_size: int) -> None: ...

    def set_batch_wait_timeout_s(self, new_batch_wait_timeout_s: float) -> None: ...


class Detector:
    """One engine per replica; concurrent requests are batched per replica."""

    def __init__(self, engine: str | None = None, models_dir: str | None = None) -> None:

        self.spec = detector_spec(engine, models_dir)
        self.engine = self.spec.build()

    def reconfigure(self, config: dict[str, Any]) -> None:
        """Batch size and wait from ``user_config``: a redeploy changes them in place."""
        batched = cast(_Tunable, self.analyze)
        batched.set_max_batch_size(int(config.get("max_batch_size", 8)))
        batched.set_batch_wait_timeout_s(float(config.get("batch_wait_timeout_s", 0.01)))

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def analyze(self, items: list[bytes]) -> list[Answer]:
        # A worker thread, so requests keep queueing for the next batch meanwhile;
        # one batch at a time (Ray's default), since engines are not re-entrant.
        return await asyncio.to_thread(analyze_batch, self.engine, self.spec, items)

    def info(self) -> EngineInfo:
        return self.engine.info


class Swapper:
    """inswapper_128, then CodeFormer when its weights and torch are present."""

    def __init__(self, models_dir: str | None = None) -> None:
        from pathlib import Path

        from huchu.game.render.swap import LocalSwapper

        self.swapper = LocalSwapper(Path(models_dir or Settings().models_dir))

    def swap(self, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
        return swap_one(self.swapper, body)


class HandleBackend:
    """``serve.api``'s backend over deployment handles."""

    def __init__(
        self, detector: DeploymentHandle[Any], swapper: DeploymentHandle[Any] | None
    ) -> None:
        self.detector = detector
        self.swapper = swapper

    @property
    def can_swap(self) -> bool:
        return self.swapper is not None

    async def analyze(self, data: bytes) -> Answer:
        status, body, size = await self.detector.analyze.remote(data)
        return Answer(status, body, size)

    async def info(self) -> EngineInfo:
        info: EngineInfo = await self.detector.info.remote()
        return info

    async def swap(self, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
        assert self.swapper is not None
        answer: tuple[int, bytes | dict[str, Any]] = await self.swapper.swap.remote(body)
        return answer


class Ingress:
    """HTTP in front of the deployments: ``serve.api.create_api`` over their handles."""

    def __init__(
        self, detector: DeploymentHandle[Any], swapper: DeploymentHandle[Any] | None = None
    ) -> None:
        self.backend: Backend = HandleBackend(detector, swapper)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_api(self.backend)


# The deployments, named after their classes (the names serve/config.yaml uses).
DETECTOR: Deployment = serve.deployment(name="Detector")(Detector)
SWAPPER: Deployment = serve.deployment(name="Swapper")(Swapper)
INGRESS: Deployment = serve.deployment(name="Ingress")(serve.ingress()(Ingress))
