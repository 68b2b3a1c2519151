"""Bytes in, faces out: the one plain function every inference backend calls."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from huchu.engines.base import RGB, EngineInfo, Face, FaceEngine
from huchu.imaging.decode import decode_image, downscale

# How much border a selfie gets on each side (fraction of its longer side)
# when nothing is found: detectors need some context around a face.
SELFIE_PAD = 0.3
# Smaller pictures cannot hold a face any engine finds.
MIN_SIDE = 16


@dataclass(frozen=True)
class Analysis:
    """Faces in the coordinates of the decoded, upright original."""

    width: int
    height: int
    faces: list[Face]
    engine: EngineInfo


def analyze_rgb(
    engine: FaceEngine, rgb: RGB, *, max_side: int = 1600, min_score: float = 0.75
) -> list[Face]:
    """Detect on a copy at most ``max_side`` px, retry padded, map back, order left to right."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        return []
    small, scale = downscale(rgb, max_side)
    faces = engine.detect(small)
    if not any(f.det_score >= min_score for f in faces):
        retry = _detect_padded(engine, small, max_side)
        if any(f.det_score >= min_score for f in retry):
            faces = retry
    h, w = rgb.shape[:2]
    out = [_clip(f.scaled(1.0 / scale), w, h) for f in faces]
    return sorted(out, key=lambda f: (f.bbox[0], f.bbox[1]))


def analyze_bytes(
    engine: FaceEngine,
    data: bytes,
    *,
    max_side: int = 1600,
    min_score: float = 0.75,
    max_pixels: int = 40_000_000,
) -> Analysis:
    decoded = decode_image(data, max_pixels=max_pixels)
    faces = analyze_rgb(engine, decoded.rgb, max_side=max_side, min_score=min_score)
    return Analysis(decoded.width, decoded.height, faces, engine.info)


def _detect_padded(engine: FaceEngine, rgb: RGB, max_side: int) -> list[Face]:
    h, w = rgb.shape[:2]
    pad = round(SELFIE_PAD * max(h, w))
    fill = [int(c) for c in rgb.reshape(-1, 3).mean(axis=0)]
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=fill)
    small, scale = downscale(np.ascontiguousarray(padded), max_side)
    return [f.scaled(1.0 / scale, -pad, -pad) for f in engine.detect(small)]


def _clip(face: Face, w: int, h: int) -> Face:
    from dataclasses import replace

    x1, y1, x2, y2 = face.bbox
    box = (max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2))
    return replace(face, bbox=box, face_px=int(min(box[2] - box[0], box[3] - box[1])))
