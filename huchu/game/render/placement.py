"""Placing an average into operators' template photos: landmark warp plus seamless clone."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from huchu.game.render.shape import canonical, face_points
from huchu.game.render.warp import warp

RGB = NDArray[np.uint8]


@lru_cache(maxsize=1)
def face_triangles() -> NDArray[np.int32]:
    from scipy.spatial import Delaunay

    n = len(face_points(np.zeros((68, 2))))
    tri: NDArray[np.int32] = Delaunay(canonical()[:n]).simplices.astype(np.int32)
    return tri


def place(
    template: RGB,
    template_lm68: NDArray[np.float64],
    average: RGB,
    average_shape: NDArray[np.float64],
) -> RGB:
    """The average face (drawn on ``average_shape``) cloned onto the template's face."""
    n = len(face_points(np.zeros((68, 2))))
    src = np.asarray(average_shape, dtype=np.float64)[:n]
    dst = face_points(np.asarray(template_lm68, dtype=np.float64))
    h, w = template.shape[:2]
    tris = face_triangles()
    warped = warp(average, src, dst, w, h, tris=tris, interpolation=cv2.INTER_CUBIC)
    warped8 = np.clip(warped + 0.5, 0, 255).astype(np.uint8)
    mask: NDArray[np.uint8] = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.round(dst).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    mask = np.asarray(cv2.erode(mask, np.ones((5, 5), np.uint8)), dtype=np.uint8)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return template
    x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
    center = (int((x1 + x2) / 2), int((y1 + y2) / 2))
    try:
        out: RGB = np.asarray(
            cv2.seamlessClone(warped8, template, mask, center, cv2.NORMAL_CLONE), dtype=np.uint8
        )
    except cv2.error:  # mask touching the border: plain alpha blend instead
        alpha = cv2.GaussianBlur(mask, (15, 15), 0)[..., None] / 255.0
        out = np.asarray(warped8 * alpha + template * (1 - alpha), dtype=np.uint8)
    return out
