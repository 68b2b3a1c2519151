"""The real work of the deployments, as plain functions tests call directly.

``@serve.batch`` does not run in Ray's local testing mode, so everything a batch
does lives here and the deployment method only hands its list over.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from huchu.batch_analysis import analyze_many
from huchu.config import Settings
from huchu.engines.base import FaceEngine
from huchu.errors import HuchuError
from huchu.inference.wire import analysis_to_wire


@dataclass(frozen=True)
class DetectorSpec:
    """Which engine a detector replica builds and the gates it applies."""

    engine: str
    models_dir: Path
    max_side: int
    min_score: float
    max_pixels: int

    @classmethod
    def from_settings(
        cls, settings: Settings, engine: str | None = None, models_dir: str | None = None
    ) -> DetectorSpec:
        """``HUCHU_*`` settings, unless the application's arguments name engine or models."""
        return cls(
            engine=engine or settings.engine,
            models_dir=Path(models_dir) if models_dir else Path(settings.models_dir),
            max_side=settings.analysis_max_side,
            min_score=settings.min_det_score,
            max_pixels=settings.max_image_pixels,
        )


class Answer(NamedTuple):
    """One ``/analyze`` answer: HTTP status, JSON body, and the size of its batch."""

    status: int
    body: dict[str, Any]
    batch_size: int


def error_body(exc: HuchuError) -> dict[str, Any]:
    return {"error": {"code": exc.code, "message": exc.message}}


def analyze_batch(engine: FaceEngine, spec: DetectorSpec, items: list[bytes]) -> list[Answer]:
    """A batch from ``@serve.batch``: one failure never fails its neighbours."""
    results = analyze_many(
        engine, items, max_side=spec.max_side, min_score=spec.min_score, max_pixels=spec.max_pixels
    )
    size = len(items)
    return [
        Answer(r.status, error_body(r), size)
        if isinstance(r, HuchuError)
        else Answer(200, analysis_to_wire(r), size)
        for r in results
    ]


def swap_one(swapper: Any, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
    """``/swap``: a PNG with the embedding's identity on the face at ``kps``."""
    from huchu.game.render_swap import from_png, png

    try:
        rgb = from_png(base64.b64decode(body["image"]))
        kps = np.asarray(body["kps"], dtype=np.float32).reshape(5, 2)
        mean = np.asarray(body["embedding"], dtype=np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        return 400, {"error": {"code": "bad_request", "message": f"bad swap request: {exc}"}}
    return 200, png(swapper.swap(rgb, kps, mean))
