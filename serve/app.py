"""Ray Serve application: ``Ingress.bind(Detector.bind(spec))``.

Run with ``serve run serve.app:app`` (``pip install -e '.[serve]'``), then point
functions at it with ``HUCHU_INFERENCE_URL=http://host:8000``. Replicas and GPUs
come from ``HUCHU_SERVE_*`` variables (see ``serve/config.py``).
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from huchu.config import Settings
from huchu.engines.base import EngineInfo
from huchu.inference.factory import engine_spec
from huchu.inference.local import EngineSpec
from serve.api import make_api
from serve.config import ServeSettings

_serve_settings = ServeSettings()


@serve.deployment(
    ray_actor_options={
        "num_gpus": _serve_settings.detector_gpus,
        "num_cpus": _serve_settings.detector_cpus,
    },
    autoscaling_config={
        "min_replicas": _serve_settings.min_replicas,
        "max_replicas": _serve_settings.max_replicas,
        "target_ongoing_requests": _serve_settings.target_ongoing_requests,
    },
    max_ongoing_requests=32,
)
class Detector:
    """One engine per replica; requests are batched per replica."""

    def __init__(self, spec: EngineSpec) -> None:
        from huchu.engines.factory import build_engine  # heavy imports live here

        self.spec = spec
        self.engine = build_engine(spec.name, spec.models_dir)

    @serve.batch(max_batch_size=_serve_settings.max_batch_size, batch_wait_timeout_s=0.01)
    async def analyze(self, items: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
        from serve.batching import analyze_batch

        return analyze_batch(self.engine, self.spec, items)

    def info(self) -> EngineInfo:
        info: EngineInfo = self.engine.info
        return info


def _ingress_api() -> Any:
    holder: dict[str, DeploymentHandle] = {}

    async def analyze(data: bytes) -> tuple[int, dict[str, Any]]:
        result: tuple[int, dict[str, Any]] = await holder["detector"].analyze.remote(data)
        return result

    async def info() -> EngineInfo:
        result: EngineInfo = await holder["detector"].info.remote()
        return result

    return make_api(analyze, info), holder


_api, _holder = _ingress_api()


@serve.deployment
@serve.ingress(_api)
class Ingress:
    def __init__(self, detector: DeploymentHandle) -> None:
        _holder["detector"] = detector


def build(settings: Settings | None = None) -> Any:
    return Ingress.bind(Detector.bind(engine_spec(settings or Settings())))


app = build()
