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
