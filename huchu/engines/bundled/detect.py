"""Stage 1: the detectors' common record, and dlib's HOG detector with a [0, 1] score."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

# HOG margins are SVM distances, not probabilities. We map them with a logistic
# curve placed so that the product's 0.75 gate sits at margin 0.165: between the
# highest false-positive margin (0.12, a suit patch in the astronaut photo when
# upsampled) and the lowest true-face margin (0.21) seen on the calibration
# photos (docs/engines.md, "Detection score").
MARGIN_AT_HALF = -0.11
MARGIN_SLOPE = 4.0
# Candidates down to this margin are kept so the product can show them as rejected.
CANDIDATE_MARGIN = -0.3
# Below this longer side, upsample once so faces down to ~40 px are found.
UPSAMPLE_BELOW_PX = 640


def calibrated_score(margin: float) -> float:
    return 1.0 / (1.0 + math.exp(-MARGIN_SLOPE * (margin - MARGIN_AT_HALF)))


@dataclass(frozen=True)
class Detection:
    """A face box in the form dlib's landmark predictor expects, with a probability."""

    box: tuple[int, int, int, int]  # left, top, right, bottom (inclusive, dlib's)
    score: float
    extra: dict[str, float] = field(default_factory=dict)


class Detector(Protocol):
    """Every face candidate in an RGB image, best first."""

    def detect(self, rgb: NDArray[np.uint8]) -> list[Detection]: ...


class HogDetector:
    """Frontal faces, with scores; one instance is cheap and stateless."""

    def __init__(self, upsample_below_px: int = UPSAMPLE_BELOW_PX) -> None:
        import dlib

        self._upsample_below_px = upsample_below_px
        self._detector = dlib.get_frontal_face_detector()

    def detect(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        upsample = 1 if max(rgb.shape[:2]) <= self._upsample_below_px else 0
        rects, margins, _ = self._detector.run(rgb, upsample, CANDIDATE_MARGIN)
        found = [
            Detection(
                (r.left(), r.top(), r.right(), r.bottom()),
                calibrated_score(float(m)),
                {"hog_margin": float(m)},
            )
            for r, m in zip(rects, margins, strict=True)
        ]
        return sorted(found, key=lambda d: -d.score)


def make_detector(name: str) -> Detector:
    """The detector a setting names: ``retinaface`` (default) or ``hog``."""
    if name == "hog":
        return HogDetector()
    if name == "retinaface":
        from huchu.engines.bundled.retina import RetinaDetector

        return RetinaDetector()
    raise ValueError(f"unknown bundled detector {name!r}; use retinaface or hog")
