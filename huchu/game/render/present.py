"""Averages fit for a projector: 768x960, the face feathered onto a clean background.

Averaged hair, shoulders and backgrounds are a grey ghost (hairlines, seams); only the face
region carries the average, so it is kept and its edge fades into a plain backdrop.
"""

from __future__ import annotations

import functools
import io

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from huchu.engines.base import RGB
from huchu.game.render.shape import FACE_POINTS, H, W

SCALE = 1
OUT_W, OUT_H = W * SCALE, H * SCALE  # 768x960
BACKDROP_TOP, BACKDROP_BOTTOM = (246, 242, 236), (226, 219, 210)
TIMELINE_SIZE = (192, 240)
MASK_STEP = 4  # the face mask is drawn at 1/4 of the output size


@functools.lru_cache(maxsize=2)
def backdrop(width: int = OUT_W, height: int = OUT_H) -> NDArray[np.float32]:
    """A soft vertical gradient: reads as a studio wall, never as a seam (read-only)."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.asarray(BACKDROP_TOP, np.float32)
    bottom = np.asarray(BACKDROP_BOTTOM, np.float32)
    wall = np.broadcast_to(top * (1 - t) + bottom * t, (height, width, 3)).copy()
    wall.flags.writeable = False
    return wall


# The shown face reaches this share of the width past its outline before it fades: the
# engine reads a face's outline (cheeks, jaw, temples) as part of who it is; a mask cut
# inside the outline cost the plain average 0.006-0.007 of cosine to the cohort's mean.
GROW = 0.05


def face_mask(
    shape: NDArray[np.float64], width: int = OUT_W, height: int = OUT_H, grow: float = 0.0
) -> NDArray[np.float32]:
    """The face region (jaw, brows, forehead) of a canvas shape, its edge feathered
    (inside the outline, or ``grow`` of the width past it).

    Drawn at a quarter of the size and scaled up: the mask is smooth, and a blur this
    wide at full size took 46 ms of a render's CPU (present.py was half of a drawing)."""
    n = len(FACE_POINTS) + 10  # face points then the lifted brows (the forehead line)
    small_w, small_h = width // MASK_STEP, height // MASK_STEP
    pts = np.asarray(shape[:n], dtype=np.float64) * (small_w / W)
    hull = np.round(cv2.convexHull(pts.astype(np.float32))).astype(np.int32)
    mask = np.zeros((small_h, small_w), np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    feather = max(3, int(0.045 * width)) / MASK_STEP
    if grow > 0:  # grow, then fade outward over the ghosted edge
        k = max(1, round(grow * width / MASK_STEP))
        shaped = cv2.dilate(mask, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    else:  # shrink a little, then blur: the fade stays inside the face
        shrink = max(1, round(feather / 3))
        shaped = cv2.erode(mask, np.ones((2 * shrink + 1, 2 * shrink + 1), np.uint8))
    soft = cv2.GaussianBlur(shaped, (0, 0), sigmaX=feather / 1.5)
    full = cv2.resize(soft, (width, height), interpolation=cv2.INTER_LINEAR)
    return (full.astype(np.float32) / 255.0)[:, :, None]


def present(image: RGB, shape: NDArray[np.float64] | None) -> RGB:
    """The average at 768x960; with its shape known, the face alone on the backdrop."""
    # Lanczos, as PIL's, at a quarter of PIL's CPU.
    big = cv2.resize(image, (OUT_W, OUT_H), interpolation=cv2.INTER_LANCZOS4).astype(np.float32)
    if shape is not None and len(shape) >= len(FACE_POINTS) + 10:
        wall = backdrop()
        big -= wall
        big *= face_mask(shape, grow=GROW)
        big += wall  # alpha * face + (1 - alpha) * wall
    big += 0.5
    shown: RGB = np.clip(big, 0, 255).astype(np.uint8)
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
