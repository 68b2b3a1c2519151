"""The real work of the deployments, as plain functions tests call directly.

``@serve.batch`` does not run in Ray's local testing mode, so everything a batch
does lives here and the deployment method only hands its list over.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from huchu.analysis import EngineSpec
from huchu.batch_analysis import analyze_many
from huchu.config import Settings
from huchu.engines.base import FaceEngine
from huchu.errors import HuchuError, error_body
from huchu.inference.wire import analysis_to_wire


def detector_spec(engine: str | None = None, models_dir: str | None = None) -> EngineSpec:
    """``HUCHU_*`` settings, unless the application's arguments name engine or models."""
    spec = EngineSpec.from_settings(Settings())
    return replace(
        spec,
        name=engine or spec.name,
        models_dir=Path(models_dir) if models_dir else spec.models_dir,
    )


class Answer(NamedTuple):
    """One ``/analyze`` answer: HTTP status, JSON body, and the size of its batch."""

    status: int
    body: dict[str, Any]
    batch_size: int


def analyze_batch(engine: FaceEngine, spec: EngineSpec, items: list[bytes]) -> list[Answer]:
    """A batch from ``@serve.batch``: one failure never fails its neighbours."""
    results = analyze_many(
        engine, items, max_side=spec.max_side, min_score=spec.min_score, max_pixels=spec.max_pixels
    )
    size = len(items)
    return [
        Answer(r.status, r.body(), size)
        if isinstance(r, HuchuError)
        else Answer(200, analysis_to_wire(r), size)
        for r in results
    ]


def swap_one(swapper: Any, body: dict[str, Any]) -> tuple[int, bytes | dict[str, Any]]:
    """``/swap``: a PNG with the embedding's identity on the face at ``kps``."""
    from huchu.game.render.swap import from_png, png

    try:
        rgb = from_png(base64.b64decode(body["image"]))
        kps = np.asarray(body["kps"], dtype=np.float32).reshape(5, 2)
        mean = np.asarray(body["embedding"], dtype=np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        return 400, error_body("bad_request", f"bad swap request: {exc}")
    return 200, png(swapper.swap(rgb, kps, mean))
