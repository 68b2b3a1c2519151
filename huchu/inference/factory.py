"""Pick the inference backend from settings."""

from __future__ import annotations

from huchu.analysis import EngineSpec
from huchu.config import Settings
from huchu.engines.infos import static_info
from huchu.inference.base import Inference
from huchu.inference.local import LocalInference
from huchu.inference.remote import HttpInference


def engine_spec(settings: Settings) -> EngineSpec:
    return EngineSpec.from_settings(settings)


def build_inference(settings: Settings, workers: int = 1) -> Inference:
    """Cheap: no engine or worker is started until the first analysis."""
    if settings.inference_url:
        expected = None
        if settings.engine != "auto":
            expected = static_info(settings.engine, settings.models_dir, settings.bundled_detector)
        return HttpInference(
            settings.inference_url, max_pixels=settings.max_image_pixels, expected=expected
        )
    return LocalInference(engine_spec(settings), workers=workers)
