"""The canonical face shape, the point set every face is reduced to, and its triangulation."""

from __future__ import annotations

import os
import pickle
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

W, H = 768, 960
LEFT_EYE, RIGHT_EYE = 36, 45  # outer eye corners, iBUG 68 numbering
EYE_POS = ((0.30 * W, 0.40 * H), (0.70 * W, 0.40 * H))
# Inner-lip points are left out: on closed mouths their triangles collapse and
# smear the lips (the "closed-lip" artefact).
FACE_POINTS = list(range(0, 60))
BROWS = list(range(17, 27))
Points = NDArray[np.float64]


def similarity_to_canvas(landmarks68: Points) -> NDArray[np.float64]:
    """2x3 matrix taking the outer eye corners to their canvas positions."""
    src = landmarks68[[LEFT_EYE, RIGHT_EYE]]
    dst = np.asarray(EYE_POS)
    sv, dv = src[1] - src[0], dst[1] - dst[0]
    scale = float(np.hypot(*dv)) / (float(np.hypot(*sv)) or 1.0)
    angle = np.arctan2(dv[1], dv[0]) - np.arctan2(sv[1], sv[0])
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    t = dst[0] - rot @ src[0]
    return np.hstack([rot, t[:, None]])


def apply(m: NDArray[np.float64], pts: Points) -> Points:
    return np.asarray(pts, dtype=np.float64) @ m[:, :2].T + m[:, 2]


def forehead(landmarks68: Points) -> Points:
    """Brows lifted by the nose length: a forehead line no 68-point model gives."""
    eyes = landmarks68[36:48].mean(axis=0)
    nose = landmarks68[33]
    lift = np.linalg.norm(nose - eyes) * 0.9
    up = (eyes - nose) / (np.linalg.norm(eyes - nose) or 1.0)
    brows: NDArray[np.float64] = landmarks68[BROWS] + up * lift
    return brows


def boundary() -> Points:
    xs, ys = (0.0, W / 2, W - 1.0), (0.0, H / 2, H - 1.0)
    return np.array([(x, y) for y in ys for x in xs if not (x == W / 2 and y == H / 2)])


def face_points(landmarks68: Points) -> Points:
    """Face points plus forehead (no boundary), in the landmarks' own frame."""
    lm = np.asarray(landmarks68, dtype=np.float64)
    return np.vstack([lm[FACE_POINTS], forehead(lm)])


def canvas_points(landmarks68: Points) -> Points:
    """The face's full point set on the canvas: aligned face points plus the border."""
    m = similarity_to_canvas(np.asarray(landmarks68, dtype=np.float64))
    return np.vstack([apply(m, face_points(landmarks68)), boundary()])


@lru_cache(maxsize=1)
def canonical() -> Points:
    """insightface's mean 68-point shape, placed on the canvas like any face."""
    import insightface

    path = os.path.join(
        os.path.dirname(insightface.__file__), "data", "objects", "meanshape_68.pkl"
    )
    with open(path, "rb") as f:
        mean = np.asarray(pickle.load(f))[:, :2]
    return canvas_points(mean)


@lru_cache(maxsize=1)
def triangles() -> NDArray[np.int32]:
    """One fixed Delaunay triangulation of the canonical shape, used for every face."""
    from scipy.spatial import Delaunay

    tri: NDArray[np.int32] = Delaunay(canonical()).simplices.astype(np.int32)
    return tri


def signed_areas(pts: Points, tris: NDArray[np.int32] | None = None) -> NDArray[np.float64]:
    t = triangles() if tris is None else tris
    a, b, c = pts[t[:, 0]], pts[t[:, 1]], pts[t[:, 2]]
    return 0.5 * (
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    )


# Small folds at the jaw line or the border (turned heads) only mirror a sliver of
# background; larger ones would smear a face across the average, so we refuse it.
MAX_FOLD = 0.03


def fold_fraction(pts: Points) -> float:
    """Share of the canvas whose triangles turn over relative to the canonical shape."""
    ref = signed_areas(canonical())
    got = signed_areas(pts)
    bad = np.sign(ref) != np.sign(got)
    return float(np.abs(ref[bad]).sum() / np.abs(ref).sum())


def flipped(pts: Points) -> bool:
    return fold_fraction(pts) > MAX_FOLD
