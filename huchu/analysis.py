"""Bytes in, faces out: the one plain function every inference backend calls."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from huchu.config import DEFAULTS, BundledDetector, Settings
from huchu.engines.base import RGB, EngineInfo, Face, FaceEngine
from huchu.imaging.decode import decode_image, downscale
from huchu.imaging.render import Rendered, RenderSpec, judge_and_render
from huchu.quality import measured, reading_order

# How much border a selfie gets on each side (fraction of its longer side)
# when nothing is found: detectors need some context around a face.
SELFIE_PAD = 0.3
# Smaller pictures cannot hold a face any engine finds.
MIN_SIDE = 16


@dataclass(frozen=True)
class EngineSpec:
    """Everything a worker process (or a Ray replica) needs to build the same engine."""

    name: str
    models_dir: Path
    max_side: int
    min_score: float
    max_pixels: int
    detector: BundledDetector

    def build(self) -> FaceEngine:
        from huchu.engines.factory import build_engine

        return build_engine(self.name, self.models_dir, self.detector)

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineSpec:
        return cls(
            name=settings.engine,
            models_dir=settings.models_dir,
            max_side=settings.analysis_max_side,
            min_score=settings.min_det_score,
            max_pixels=settings.max_image_pixels,
            detector=settings.bundled_detector,
        )


@dataclass(frozen=True)
class Analysis:
    """Faces in the coordinates of the decoded, upright original, in reading order (face
    ``i`` is number ``i + 1`` on the annotated photo); ``reasons``, once the quality gate
    has judged them (``analyze_and_render``): why each face does not count, or ``None``."""

    width: int
    height: int
    faces: list[Face]
    engine: EngineInfo
    reasons: tuple[str | None, ...] = ()

    def judged(self, reasons: list[str | None]) -> Analysis:
        return replace(self, reasons=tuple(reasons))


def analyze_rgb(
    engine: FaceEngine,
    rgb: RGB,
    *,
    max_side: int = DEFAULTS.analysis_max_side,
    min_score: float = DEFAULTS.min_det_score,
) -> list[Face]:
    """Detect on a copy at most ``max_side`` px, retry padded, map back, in reading order."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        return []
    small, scale = downscale(rgb, max_side)
    faces = engine.detect(small)
    if not any(f.det_score >= min_score for f in faces):
        retry = _detect_padded(engine, small, max_side)
        if any(f.det_score >= min_score for f in retry):
            faces = retry
    h, w = rgb.shape[:2]
    out = [measured(rgb, _clip(f.scaled(1.0 / scale), w, h)) for f in faces]
    return [out[i] for i in reading_order(out)]


def analyze_bytes(
    engine: FaceEngine,
    data: bytes,
    *,
    max_side: int = DEFAULTS.analysis_max_side,
    min_score: float = DEFAULTS.min_det_score,
    max_pixels: int = DEFAULTS.max_image_pixels,
) -> Analysis:
    decoded = decode_image(data, max_pixels=max_pixels)
    faces = analyze_rgb(engine, decoded.rgb, max_side=max_side, min_score=min_score)
    return Analysis(decoded.width, decoded.height, faces, engine.info)


def analyze_with(engine: FaceEngine, spec: EngineSpec, data: bytes) -> Analysis:
    return analyze_bytes(
        engine, data, max_side=spec.max_side, min_score=spec.min_score, max_pixels=spec.max_pixels
    )


def analyze_and_render(
    engine: FaceEngine, spec: EngineSpec, data: bytes, rspec: RenderSpec
) -> tuple[Analysis, Rendered | None]:
    """Decode once, analyse, judge every face and draw only when some face counts."""
    decoded = decode_image(data, max_pixels=spec.max_pixels)
    faces = analyze_rgb(engine, decoded.rgb, max_side=spec.max_side, min_score=rspec.min_score)
    reasons, rendered = judge_and_render(decoded.rgb, faces, rspec)
    return Analysis(decoded.width, decoded.height, faces, engine.info, tuple(reasons)), rendered


def _detect_padded(engine: FaceEngine, rgb: RGB, max_side: int) -> list[Face]:
    h, w = rgb.shape[:2]
    pad = round(SELFIE_PAD * max(h, w))
    fill = [int(c) for c in rgb.reshape(-1, 3).mean(axis=0)]
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=fill)
    small, scale = downscale(np.ascontiguousarray(padded), max_side)
    return [f.scaled(1.0 / scale, -pad, -pad) for f in engine.detect(small)]


def _clip(face: Face, w: int, h: int) -> Face:
    """The box inside the photo; the share of the detector's box that lay outside it is
    kept (``extra["box_outside"]``): the quality gate's sign of a face cut by the border."""
    x1, y1, x2, y2 = face.bbox
    box = (max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2))
    area = max(x2 - x1, 1e-6) * max(y2 - y1, 1e-6)
    inside = max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
    extra = {**face.extra, "box_outside": round(max(0.0, 1.0 - inside / area), 4)}
    return replace(
        face, bbox=box, face_px=int(min(box[2] - box[0], box[3] - box[1])), extra=extra
    )
