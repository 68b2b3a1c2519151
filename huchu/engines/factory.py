"""Build the configured engine: ``auto`` takes insightface when its files are present."""

from __future__ import annotations

from pathlib import Path

from huchu.config import DEFAULTS, BundledDetector
from huchu.engines.base import FaceEngine
from huchu.engines.insight import pack_present


def resolve_engine_name(name: str, models_dir: Path) -> str:
    if name == "auto":
        return "insightface" if pack_present(models_dir) else "dlib"
    return name


def build_engine(
    name: str, models_dir: Path, detector: BundledDetector = DEFAULTS.bundled_detector
) -> FaceEngine:
    resolved = resolve_engine_name(name, models_dir)
    if resolved == "insightface":
        from huchu.engines.insight import InsightFaceEngine

        return InsightFaceEngine(models_dir)
    if resolved == "dlib":
        from huchu.engines.bundled import BundledEngine

        return BundledEngine(detector)
    raise ValueError(f"unknown engine {name!r}; use auto, insightface or dlib")
