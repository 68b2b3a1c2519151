"""Pick the inference backend from settings."""

from __future__ import annotations

from huchu.config import Settings
from huchu.inference.base import Inference
from huchu.inference.local import EngineSpec, LocalInference
from huchu.inference.remote import HttpInference


def engine_spec(settings: Settings) -> EngineSpec:
    return EngineSpec(
        name=settings.engine,
        models_dir=settings.models_dir,
        max_side=settings.analysis_max_side,
        min_score=settings.min_det_score,
        max_pixels=settings.max_image_pixels,
    )


def build_inference(settings: Settings, workers: int = 1) -> Inference:
    if settings.inference_url:
        return HttpInference(settings.inference_url, max_pixels=settings.max_image_pixels)
    return LocalInference(engine_spec(settings), workers=workers)
