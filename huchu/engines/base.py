"""The ``FaceEngine`` seam and the face record every engine returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, runtime_checkable

import cv2
import numpy as np
from numpy.typing import NDArray

Gender = Literal["female", "male"]
RGB = NDArray[np.uint8]


@dataclass(frozen=True)
class Thresholds:
    """Cosine similarities on unit embeddings: same person, and look-alike (graph edge)."""

    same_person: float
    lookalike: float


@dataclass(frozen=True)
class EngineInfo:
    """What made an embedding: engine, model ids, dimension, metric and thresholds."""

    engine: str
    models: tuple[str, ...]
    embedding_dim: int
    metric: str
    thresholds: Thresholds

    @property
    def model_id(self) -> str:
        return "+".join(self.models)

    @property
    def collection(self) -> str:
        return f"faces_{self.engine}_{self.embedding_dim}"

    def as_dict(self) -> dict[str, object]:
        return {
            "engine": self.engine,
            "models": list(self.models),
            "embedding_dim": self.embedding_dim,
            "metric": self.metric,
            "thresholds": {
                "same_person": self.thresholds.same_person,
                "lookalike": self.thresholds.lookalike,
            },
        }


@dataclass(frozen=True)
class Face:
    """One detected face, in the coordinates of the image it was found in."""

    bbox: tuple[float, float, float, float]
    kps: tuple[tuple[float, float], ...]
    det_score: float
    landmarks: tuple[tuple[float, float], ...]
    gender: Gender | None
    age: float | None
    embedding: NDArray[np.float32]
    engine: str
    model_id: str
    face_px: int
    sharpness: float
    pose: tuple[float, float, float] | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> Face:
        """Map coordinates by ``p * factor + (dx, dy)``: back to the original image."""

        def pt(p: tuple[float, float]) -> tuple[float, float]:
            return (p[0] * factor + dx, p[1] * factor + dy)

        x1, y1, x2, y2 = self.bbox
        return replace(
            self,
            bbox=(x1 * factor + dx, y1 * factor + dy, x2 * factor + dx, y2 * factor + dy),
            kps=tuple(pt(p) for p in self.kps),
            landmarks=tuple(pt(p) for p in self.landmarks),
            face_px=round(self.face_px * factor),
        )

    def to_json(self, with_embedding: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "bbox": [round(v, 1) for v in self.bbox],
            "kps": [[round(x, 1), round(y, 1)] for x, y in self.kps],
            "det_score": round(self.det_score, 4),
            "gender": self.gender,
            "age": None if self.age is None else round(self.age, 1),
            "landmarks": [[round(x, 1), round(y, 1)] for x, y in self.landmarks],
            "pose": None if self.pose is None else [round(v, 2) for v in self.pose],
            "face_px": self.face_px,
            "sharpness": round(self.sharpness, 2),
            "engine": self.engine,
            "model_id": self.model_id,
        }
        if with_embedding:
            out["embedding"] = [float(v) for v in self.embedding]
        return out


class FaceEngine(Protocol):
    """Finds every face in an RGB image with its embedding and attributes."""

    @property
    def info(self) -> EngineInfo: ...

    def detect(self, rgb: RGB) -> list[Face]:
        """Every face in ``rgb`` (coordinates of ``rgb``), unfiltered by score."""
        ...


@dataclass(frozen=True)
class Detection:
    """A detector's answer before any per-face model runs (coordinates of its image)."""

    bbox: tuple[float, float, float, float]
    kps: NDArray[np.float32] | None
    det_score: float


@runtime_checkable
class BatchFaceEngine(FaceEngine, Protocol):
    """An engine that splits detection (per image) from the per-face models (per batch)."""

    def locate(self, rgb: RGB) -> list[Detection]:
        """The detector alone on one image."""
        ...

    def describe(self, batch: Sequence[tuple[RGB, Sequence[Detection]]]) -> list[list[Face]]:
        """Every per-face model once over all faces of all images in ``batch``."""
        ...


def l2_normalise(v: NDArray[np.floating]) -> NDArray[np.float32]:
    """Unit length in float32, the form every vector is stored in."""
    v = np.asarray(v, dtype=np.float64)
    n = float(np.linalg.norm(v))
    if n == 0.0 or not np.isfinite(n):
        return np.zeros(v.shape, dtype=np.float32)
    return (v / n).astype(np.float32)


# A face's sharpness is measured on its square box resampled to this many pixels, so a big
# face and a small one are compared at one scale (``huchu.quality``).
SHARPNESS_PX = 64


def sharpness(rgb: RGB, bbox: Sequence[float], px: int = SHARPNESS_PX) -> float:
    """Variance of the Laplacian over the face's square box resampled to ``px`` pixels
    (its inner 70%, so hair and background at the box's edge do not count): a blur
    signal that does not depend on the face's size in the photo."""
    x1, y1, x2, y2 = (float(v) for v in bbox[:4])
    side = max(x2 - x1, y2 - y1, 1.0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    k = px / side
    if k < 1.0:
        # Shrink by area: crop first (the photo may be large), then resize.
        h, w = rgb.shape[:2]
        left, top = round(cx - side / 2), round(cy - side / 2)
        n = max(1, round(side))
        sx1, sy1, sx2, sy2 = max(0, left), max(0, top), min(w, left + n), min(h, top + n)
        if sx2 <= sx1 or sy2 <= sy1:
            return 0.0
        # Outside the photo: its edge repeated, as in the enlarging branch (no false edge).
        patch = cv2.copyMakeBorder(
            np.ascontiguousarray(rgb[sy1:sy2, sx1:sx2]),
            sy1 - top,
            top + n - sy2,
            sx1 - left,
            left + n - sx2,
            cv2.BORDER_REPLICATE,
        )
        chip = cv2.resize(patch, (px, px), interpolation=cv2.INTER_AREA)
    else:
        m = np.array([[k, 0.0, px / 2 - cx * k], [0.0, k, px / 2 - cy * k]])
        chip = cv2.warpAffine(
            np.ascontiguousarray(rgb),
            m,
            (px, px),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    gray = cv2.cvtColor(np.ascontiguousarray(chip), cv2.COLOR_RGB2GRAY).astype(np.float64)
    lap = cv2.Laplacian(gray, cv2.CV_64F)
    inner = round(px * 0.15)
    return float(lap[inner : px - inner, inner : px - inner].var())
