"""Ray Serve application: ``Ingress.bind(Detector.bind(spec))``.

Run with ``serve run serve.app:app`` (``pip install -e '.[serve]'``), then point
functions at it with ``HUCHU_INFERENCE_URL=http://host:8000``. Replicas and GPUs
come from ``HUCHU_SERVE_*`` variables (see ``serve/config.py``).
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from ray import serve
from ray.serve.handle import DeploymentHandle

from huchu.config import Settings
from huchu.engines.base import EngineInfo
from huchu.inference.factory import engine_spec
from huchu.inference.local import EngineSpec
from huchu.inference.wire import info_to_wire
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


api = FastAPI(title="Huchu inference", version="1")


@serve.deployment(
    ray_actor_options={
        "num_gpus": _serve_settings.swap_gpus,
        "num_cpus": _serve_settings.detector_cpus,
    },
    autoscaling_config={
        "min_replicas": 0,
        "max_replicas": _serve_settings.max_replicas,
        "target_ongoing_requests": 2,
    },
)
class Swapper:
    """inswapper_128, then CodeFormer when its weights and torch are present."""

    def __init__(self, models_dir: str) -> None:
        from pathlib import Path

        from huchu.game.render.swap import LocalSwapper

        self.swapper = LocalSwapper(Path(models_dir))

    def swap(self, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
        from serve.batching import swap_one

        return swap_one(self.swapper, body)


@serve.deployment
@serve.ingress(api)
class Ingress:
    """HTTP in front of the deployments: the same routes as ``serve.api``."""

    def __init__(self, detector: DeploymentHandle, swapper: DeploymentHandle | None = None) -> None:
        self.detector = detector
        self.swapper = swapper

    @api.post("/swap")
    async def swap(self, request: Request) -> Response:
        if self.swapper is None:
            return JSONResponse(
                {"error": {"code": "not_found", "message": "no inswapper model here"}}, 404
            )
        status, body = await self.swapper.swap.remote(await request.json())
        if isinstance(body, bytes):
            return Response(body, media_type="image/png", status_code=status)
        return JSONResponse(body, status_code=status)

    @api.post("/analyze")
    async def analyze(self, request: Request) -> JSONResponse:
        status, body = await self.detector.analyze.remote(await request.body())
        return JSONResponse(body, status_code=status)

    @api.get("/info")
    async def info(self) -> dict[str, Any]:
        return info_to_wire(await self.detector.info.remote()) | {"swap": self.swapper is not None}

    @api.get("/healthz")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}


def build(settings: Settings | None = None) -> Any:
    """The application graph; the swapper joins when ``inswapper_128.onnx`` is present."""
    from pathlib import Path

    from huchu.game.render.swap import INSWAPPER

    settings = settings or Settings()
    detector = Detector.bind(engine_spec(settings))
    if (Path(settings.models_dir) / INSWAPPER).is_file():
        return Ingress.bind(detector, Swapper.bind(str(settings.models_dir)))
    return Ingress.bind(detector)


app = build()
