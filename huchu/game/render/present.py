"""Averages fit for a projector: 768x960, the face feathered onto a clean background.

Averaged hair, shoulders and backgrounds are a grey ghost (hairlines, seams); only the face
region carries the average, so it is kept and its edge fades into a plain backdrop.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from huchu.engines.base import RGB
from huchu.game.render.shape import FACE_POINTS, H, W

SCALE = 3
OUT_W, OUT_H = W * SCALE, H * SCALE  # 768x960
BACKDROP_TOP, BACKDROP_BOTTOM = (246, 242, 236), (226, 219, 210)
TIMELINE_SIZE = (192, 240)


def backdrop(width: int = OUT_W, height: int = OUT_H) -> NDArray[np.float32]:
    """A soft vertical gradient: reads as a studio wall, never as a seam."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.asarray(BACKDROP_TOP, np.float32)
    bottom = np.asarray(BACKDROP_BOTTOM, np.float32)
    return np.broadcast_to(top * (1 - t) + bottom * t, (height, width, 3)).copy()


def face_mask(
    shape: NDArray[np.float64], width: int = OUT_W, height: int = OUT_H
) -> NDArray[np.float32]:
    """The face region (jaw, brows, forehead) of a canvas shape, its edge feathered."""
    n = len(FACE_POINTS) + 10  # face points then the lifted brows (the forehead line)
    pts = np.asarray(shape[:n], dtype=np.float64) * (width / W)
    hull = cv2.convexHull(pts.astype(np.float32)).astype(np.int32)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    # Shrink a little, then blur: the fade stays inside the face, off the ghosted edge.
    feather = max(3, int(0.045 * width))
    shrunk = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=feather // 3)
    soft = cv2.GaussianBlur(shrunk, (0, 0), sigmaX=feather / 1.5).astype(np.float32) / 255.0
    return soft[:, :, None]


def present(image: RGB, shape: NDArray[np.float64] | None) -> RGB:
    """The average at 768x960; with its shape known, the face alone on the backdrop."""
    big = np.asarray(
        Image.fromarray(image).resize((OUT_W, OUT_H), Image.Resampling.LANCZOS), dtype=np.float32
    )
    if shape is not None and len(shape) >= len(FACE_POINTS) + 10:
        alpha = face_mask(shape)
        big = big * alpha + backdrop() * (1.0 - alpha)
    shown: RGB = np.clip(big + 0.5, 0, 255).astype(np.uint8)
    return shown


def pair_image(female: RGB | None, male: RGB | None) -> RGB:
    """The female and male averages side by side, twice as wide as one (blank if missing)."""
    blank = backdrop().astype(np.uint8)
    left = female if female is not None else blank
    right = male if male is not None else blank
    out = np.hstack([left, right])
    out[:, OUT_W - 2 : OUT_W + 2] = 255  # a thin white line between the two
    return out


def timeline_webp(frames: list[RGB], ms_per_frame: int = 600) -> bytes:
    """The average's versions as a small looping animated WebP (a few tens of KB)."""
    images = [Image.fromarray(f).resize(TIMELINE_SIZE, Image.Resampling.LANCZOS) for f in frames]
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        duration=ms_per_frame,
        loop=0,
        quality=70,
        method=4,
    )
    return buf.getvalue()
