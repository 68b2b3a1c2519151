"""Piecewise-affine warps through one remap: no seams between triangles, no holes."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from huchu.game.render.shape import triangles

Points = NDArray[np.float64]


def label_map(
    pts: Points, width: int, height: int, tris: NDArray[np.int32] | None = None
) -> NDArray[np.int32]:
    """Which triangle covers each pixel of the destination (-1: none)."""
    t = triangles() if tris is None else tris
    labels = np.full((height, width), -1, np.int32)
    for i, tri in enumerate(t):
        poly = np.round(pts[tri]).astype(np.int32)
        cv2.fillConvexPoly(labels, poly, int(i))
    return labels


def affines(dst: Points, src: Points, tris: NDArray[np.int32] | None = None) -> NDArray[np.float64]:
    """Per triangle, the 2x3 matrix from destination to source coordinates.

    One batched solve for all triangles: a loop of 146 small solves gave up and took back
    the interpreter 146 times per face, and under load each take-back waits its turn."""
    t = triangles() if tris is None else tris
    d = np.concatenate([dst[t], np.ones((len(t), 3, 1))], axis=2)  # T x 3 x 3
    s = src[t]  # T x 3 x 2
    out = np.zeros((len(t), 2, 3))
    # A collapsed triangle (no inverse) is mapped to its centroid.
    ok = np.abs(np.linalg.det(d)) > 1e-9
    out[ok] = np.linalg.solve(d[ok], s[ok]).transpose(0, 2, 1)
    out[~ok, :, 2] = s[~ok].mean(axis=1)
    return out


def warp(
    image: NDArray[np.generic],
    src: Points,
    dst: Points,
    width: int,
    height: int,
    labels: NDArray[np.int32] | None = None,
    interpolation: int = cv2.INTER_LINEAR,
    tris: NDArray[np.int32] | None = None,
    border: int = cv2.BORDER_REFLECT,
) -> NDArray[np.float32]:
    """Move ``image`` so that points ``src`` land on ``dst`` (float32 result); outside the
    image, ``border`` (mirrored by default; ``cv2.BORDER_CONSTANT``: zero)."""
    lab = label_map(dst, width, height, tris) if labels is None else labels
    mats = affines(dst, src, tris)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    idx = np.where(lab >= 0, lab, 0)
    m = mats[idx]  # H x W x 2 x 3
    map_x = (m[..., 0, 0] * xs + m[..., 0, 1] * ys + m[..., 0, 2]).astype(np.float32)
    map_y = (m[..., 1, 0] * xs + m[..., 1, 1] * ys + m[..., 1, 2]).astype(np.float32)
    outside = lab < 0
    map_x[outside] = xs[outside]
    map_y[outside] = ys[outside]
    moved = cv2.remap(
        np.asarray(image, dtype=np.float32),
        map_x,
        map_y,
        interpolation,
        borderMode=border,
    )
    return np.asarray(moved, dtype=np.float32)
