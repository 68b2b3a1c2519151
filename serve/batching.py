"""The real work of the deployments, as plain functions tests call directly."""

from __future__ import annotations

from typing import Any

from huchu.analysis import analyze_bytes
from huchu.engines.base import FaceEngine
from huchu.errors import HuchuError
from huchu.inference.local import EngineSpec
from huchu.inference.wire import analysis_to_wire


def analyze_one(engine: FaceEngine, spec: EngineSpec, data: bytes) -> tuple[int, dict[str, Any]]:
    """One image: (HTTP status, JSON body) exactly as the in-process path would answer."""
    try:
        result = analyze_bytes(
            engine,
            data,
            max_side=spec.max_side,
            min_score=spec.min_score,
            max_pixels=spec.max_pixels,
        )
    except HuchuError as exc:
        return exc.status, {"error": {"code": exc.code, "message": exc.message}}
    return 200, analysis_to_wire(result)


def analyze_batch(
    engine: FaceEngine, spec: EngineSpec, items: list[bytes]
) -> list[tuple[int, dict[str, Any]]]:
    """A batch from ``@serve.batch``: one failure never fails its neighbours."""
    return [analyze_one(engine, spec, data) for data in items]


def swap_one(swapper: Any, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
    """``/swap``: a PNG with the embedding's identity on the face at ``kps``."""
    import base64

    import numpy as np

    from huchu.game.render.swap import from_png

    try:
        rgb = from_png(base64.b64decode(body["image"]))
        kps = np.asarray(body["kps"], dtype=np.float32).reshape(5, 2)
        mean = np.asarray(body["embedding"], dtype=np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        return 400, {"error": {"code": "bad_request", "message": f"bad swap request: {exc}"}}
    from huchu.game.render.swap import png

    return 200, png(swapper.swap(rgb, kps, mean))
