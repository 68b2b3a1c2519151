"""Many images at once: detection per image, then the per-face models once per batch.

The same steps as ``analysis.analyze_rgb`` (downscale, a padded retry when no face
passes the gate, map back, clip, sharpness measured on the original, reading order);
engines that cannot split detection from description fall back to ``analyze_rgb`` one
image at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from huchu.analysis import MIN_SIDE, SELFIE_PAD, Analysis, _clip, analyze_rgb
from huchu.engines.base import RGB, BatchFaceEngine, Detection, Face, FaceEngine
from huchu.errors import HuchuError
from huchu.imaging.decode import decode_image, downscale
from huchu.quality import measured, reading_order


@dataclass(frozen=True)
class _Plan:
    """Where one image's faces were found and how to map them back to the original."""

    image: RGB
    original: RGB  # the decoded photo: sharpness is measured on it, as analyze_rgb does
    detections: list[Detection]
    # Each step is Face.scaled(factor, dx, dy), applied in order, as analyze_rgb does.
    steps: tuple[tuple[float, float, float], ...]
    size: tuple[int, int]


def analyze_many(
    engine: FaceEngine,
    items: Sequence[bytes],
    *,
    max_side: int,
    min_score: float,
    max_pixels: int,
) -> list[Analysis | HuchuError]:
    """One answer per item, in order; a bad item's error never fails its neighbours."""
    decoded: list[RGB | HuchuError] = []
    sizes: list[tuple[int, int]] = []
    for data in items:
        try:
            image = decode_image(data, max_pixels=max_pixels)
        except HuchuError as exc:
            decoded.append(exc)
            sizes.append((0, 0))
            continue
        decoded.append(image.rgb)
        sizes.append((image.width, image.height))
    faces = _faces(engine, decoded, max_side=max_side, min_score=min_score)
    out: list[Analysis | HuchuError] = []
    for item, (width, height), found in zip(decoded, sizes, faces, strict=True):
        out.append(
            item if isinstance(item, HuchuError) else Analysis(width, height, found, engine.info)
        )
    return out


def _faces(
    engine: FaceEngine, images: Sequence[RGB | HuchuError], *, max_side: int, min_score: float
) -> list[list[Face]]:
    if not isinstance(engine, BatchFaceEngine):
        return [
            []
            if isinstance(rgb, HuchuError)
            else analyze_rgb(engine, rgb, max_side=max_side, min_score=min_score)
            for rgb in images
        ]
    plans = [
        None if isinstance(rgb, HuchuError) else _plan(engine, rgb, max_side, min_score)
        for rgb in images
    ]
    ready = [p for p in plans if p is not None]
    described = iter(engine.describe([(p.image, p.detections) for p in ready]))
    out: list[list[Face]] = []
    for plan in plans:
        if plan is None:
            out.append([])
            continue
        w, h = plan.size
        mapped = []
        for face in next(described):
            for factor, dx, dy in plan.steps:
                face = face.scaled(factor, dx, dy)
            mapped.append(measured(plan.original, _clip(face, w, h)))
        out.append([mapped[i] for i in reading_order(mapped)])
    return out


def _plan(engine: BatchFaceEngine, rgb: RGB, max_side: int, min_score: float) -> _Plan | None:
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        return None
    small, scale = downscale(rgb, max_side)
    found = engine.locate(small)
    if not any(d.det_score >= min_score for d in found):
        sh, sw = small.shape[:2]
        pad = round(SELFIE_PAD * max(sh, sw))
        fill = [int(c) for c in small.reshape(-1, 3).mean(axis=0)]
        padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=fill)
        retry_image, retry_scale = downscale(np.ascontiguousarray(padded), max_side)
        retry = engine.locate(retry_image)
        if any(d.det_score >= min_score for d in retry):
            steps = ((1.0 / retry_scale, -pad, -pad), (1.0 / scale, 0.0, 0.0))
            return _Plan(retry_image, rgb, retry, steps, (w, h))
    return _Plan(small, rgb, found, ((1.0 / scale, 0.0, 0.0),), (w, h))
