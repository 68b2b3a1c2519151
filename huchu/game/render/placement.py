"""Placing an average into a template portrait: the template follows the average's shape.

The face keeps the average's geometry (jaw, eyes, nose, mouth where the average has
them): a similarity transform takes the average's canvas onto the template's face, and
the template around it (hair, ears, neck) is warped piecewise so that its face outline
meets the average's. Only then is the face region cloned in (Poisson blending, so its
colour meets the template's skin at the seam). Warping the average onto the template's
landmarks instead gives the template person's face shape to the picture, and with it
part of their identity.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from huchu.game.render.shape import face_points
from huchu.game.render.warp import warp

RGB = NDArray[np.uint8]
# The ring of points that ties the template's warp down: this many times the face's
# size around its centre (beyond it the template is not moved), in this many points.
RING, RING_POINTS = 1.9, 16
# The cloned region: the face hull grown by this share of the face's width, so the jaw
# line and the temples come from the average too.
GROW = 0.08


def _similarity(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    m, _ = cv2.estimateAffinePartial2D(src.astype(np.float32), dst.astype(np.float32))
    if m is None:
        raise ValueError("no similarity between the shapes")
    return np.asarray(m, dtype=np.float64)


def _ring(center: NDArray[np.float64], radius: float, w: int, h: int) -> NDArray[np.float64]:
    angles = np.linspace(0.0, 2 * np.pi, RING_POINTS, endpoint=False)
    ring = center + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], dtype=np.float64)
    return np.vstack([ring, corners])


def place(
    template: RGB,
    template_lm68: NDArray[np.float64],
    average: RGB,
    average_shape: NDArray[np.float64],
) -> RGB:
    """The average face (drawn on ``average_shape``) put into the template's head."""
    from scipy.spatial import Delaunay

    n = len(face_points(np.zeros((68, 2))))
    mine = np.asarray(average_shape, dtype=np.float64)[:n]
    theirs = face_points(np.asarray(template_lm68, dtype=np.float64))
    h, w = template.shape[:2]
    m = _similarity(mine, theirs)
    target = mine @ m[:, :2].T + m[:, 2]  # the average's face, where the template's is
    center = theirs.mean(axis=0)
    size = float(np.ptp(theirs, axis=0).max())
    ring = _ring(center, RING * size / 2, w, h)
    src = np.vstack([theirs, ring])
    dst = np.vstack([target, ring])
    tris = Delaunay(dst).simplices.astype(np.int32)
    body = np.clip(warp(template, src, dst, w, h, tris=tris, interpolation=cv2.INTER_CUBIC), 0, 255)
    body8 = (body + 0.5).astype(np.uint8)
    face = cv2.warpAffine(average, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    mask: NDArray[np.uint8] = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.round(target).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    grow = max(1, round(GROW * size))
    mask = np.asarray(cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)), np.uint8)
    mask[:2, :] = mask[-2:, :] = 0
    mask[:, :2] = mask[:, -2:] = 0
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return template
    x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
    center_px = (int((x1 + x2 + 1) // 2), int((y1 + y2 + 1) // 2))
    try:
        out: RGB = np.asarray(
            cv2.seamlessClone(face, body8, mask, center_px, cv2.NORMAL_CLONE), dtype=np.uint8
        )
    except cv2.error:  # a region OpenCV will not clone: a feathered alpha blend instead
        alpha = cv2.GaussianBlur(mask, (0, 0), max(2.0, grow / 2))[..., None] / 255.0
        out = np.asarray(face * alpha + body8 * (1 - alpha), dtype=np.uint8)
    return out
