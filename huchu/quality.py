"""The game's quality gate: which faces of a photo are participants the game may judge.

A blurred, small or turned face has a generic embedding that lies near every average (such
faces cluster near the centre of face-embedding space), so "closest to the average" would
crown the least distinct face in the hall: a bystander. The gate keeps those out. Each rule
reads the picture, not the engine, so both engines share it; the figures behind every
threshold are in ``docs/engines.md`` ("The quality gate") and ``benchmarks/gate.py``.

Rules, in the order a face is judged (the first that fails is its ``reason``):

==============  =========================================================================
``low_score``   detection score below ``min_score`` (0.75, as in the original app)
``too_small``   the face's box is under ``min_px`` on its short side
``cut_off``     the photo's border cuts the face: an eye, the nose or a mouth corner lies
                outside it, more than ``MAX_OUTSIDE`` of its landmarks do, or more than
                ``MAX_BOX_OUTSIDE`` of the detector's box did
``turned_away`` the nose lies well beyond the eyes' span (yaw), or far above the eyes or
                below the mouth (pitch), from the five points in the face's own frame
``blurry``      sharpness (variance of the Laplacian) at a fixed face scale
                (``SHARPNESS_PX``) under ``MIN_SHARPNESS``
``background``  a bystander: much smaller than the photo's main face, or smaller and much
                blurrier than it (both measured at the smaller face's own scale), or a
                box that lies largely inside the main face's
==============  =========================================================================

The main face is the largest face that passes the absolute rules (``main_index``). Faces
are numbered in reading order (rows top to bottom, left to right in a row).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from huchu.engines.base import RGB, SHARPNESS_PX, Face
from huchu.engines.base import sharpness as sharpness_at

# Stored with every photo and face judged by this gate; faces stored before it (no ``gate``
# or an older one) are judged again by the next recompute (``huchu.game.regate``).
GATE_VERSION = 1
REASONS = ("low_score", "too_small", "cut_off", "turned_away", "blurry", "background")

# Sharpness is measured at one face scale (``SHARPNESS_PX``, ``huchu.engines.base.sharpness``);
# docs/engines.md: at that scale every face whose sharpness was at least MIN_SHARPNESS kept
# its identity under blur.
MIN_SHARPNESS = 20.0
# Share of a face's landmarks that may fall outside the photo before it counts as cut.
MAX_OUTSIDE = 0.12
# Share of the detector's box (before it is clipped to the photo) that may lie outside it.
MAX_BOX_OUTSIDE = 0.3
# Yaw: |2r - 1| where r is the nose's place between the eyes (0.5 frontal, 0 or 1: in line
# with one eye). Past MAX_YAW the nose stands outside the eyes' span: a profile.
MAX_YAW = 1.25
# Pitch: the nose's height between the eye line (0) and the mouth (1); frontal about 0.55.
PITCH_RANGE = (0.12, 0.92)
# A bystander: under BACKGROUND_SIZE of the main face's size, or under BACKGROUND_NEAR of
# it and under BACKGROUND_SHARP of its sharpness (both at the smaller face's scale).
BACKGROUND_SIZE = 0.35
BACKGROUND_NEAR = 0.7
BACKGROUND_SHARP = 0.3
# Faces whose centres are this many face heights apart (or less) stand in one row.
ROW_TOLERANCE = 0.6
# Share of a face's box that may lie inside the main face's box.
BACKGROUND_OVERLAP = 0.25


@dataclass(frozen=True)
class Pose:
    yaw: float  # |2r - 1|: 0 frontal, 1 nose in line with an eye
    pitch: float  # the nose between the eye line (0) and the mouth (1)


def pose_of(kps: Sequence[Sequence[float]]) -> Pose | None:
    """Yaw and pitch read from the five points (eyes, nose, mouth corners), in the face's
    own frame (its roll undone); ``None`` without five points."""
    if len(kps) < 5:
        return None
    le, re, nose, lm, rm = (np.asarray(p, dtype=np.float64) for p in kps[:5])
    eyes = (le + re) / 2
    angle = math.atan2(re[1] - le[1], re[0] - le[0])
    c, s = math.cos(-angle), math.sin(-angle)
    rot = np.array([[c, -s], [s, c]])
    left, right, n, mouth = (rot @ (p - eyes) for p in (le, re, nose, (lm + rm) / 2))
    span = right[0] - left[0]
    if span <= 1e-6 or mouth[1] <= 1e-6:
        return Pose(yaw=math.inf, pitch=math.inf)  # no face geometry: eyes crossed, mouth up
    r = (n[0] - left[0]) / span
    return Pose(yaw=abs(2.0 * r - 1.0), pitch=float(n[1] / mouth[1]))


def core_box(face: Face) -> tuple[float, float, float, float]:
    """The square around the eyes, nose and mouth (from the five points): where sharpness
    is measured, so that hair, a shoulder or a neighbour inside a loose detector box do not
    count. The detector's box when there are no five points."""
    if len(face.kps) < 5:
        return face.bbox
    p = np.asarray(face.kps[:5], dtype=np.float64)
    eyes, mouth = (p[0] + p[1]) / 2, (p[3] + p[4]) / 2
    centre = eyes + 0.43 * (mouth - eyes)
    half = max(
        4.0, 1.1 * float(np.linalg.norm(mouth - eyes)), 0.6 * float(np.linalg.norm(p[1] - p[0]))
    )
    return (centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half)


def measured(rgb: RGB, face: Face) -> Face:
    """The face with its sharpness measured on ``rgb`` (the photo it is judged in)."""
    return replace(face, sharpness=round(sharpness_at(rgb, core_box(face)), 2))


def outside_share(face: Face, width: int, height: int) -> float:
    """The share of the face's points (landmarks, else its five points) outside the photo;
    1.0 when one of the five points is, or too much of the detector's box was."""

    def out(p: Sequence[float]) -> bool:
        return not (0.0 <= p[0] < width and 0.0 <= p[1] < height)

    if any(out(p) for p in face.kps) or face.extra.get("box_outside", 0.0) > MAX_BOX_OUTSIDE:
        return 1.0
    points = face.landmarks or face.kps
    return sum(out(p) for p in points) / len(points) if points else 0.0


@dataclass(frozen=True)
class Gate:
    """The thresholds of the gate (the detection score and size from Settings)."""

    min_score: float = 0.75
    min_px: int = 24
    min_sharpness: float = MIN_SHARPNESS
    max_outside: float = MAX_OUTSIDE
    max_yaw: float = MAX_YAW
    pitch_range: tuple[float, float] = PITCH_RANGE

    def absolute(self, face: Face, width: int, height: int) -> str | None:
        """The first rule a face fails on its own, or ``None``."""
        if face.det_score < self.min_score:
            return "low_score"
        if face.face_px < self.min_px:
            return "too_small"
        if outside_share(face, width, height) > self.max_outside:
            return "cut_off"
        pose = pose_of(face.kps)
        if pose is not None and (
            pose.yaw > self.max_yaw or not self.pitch_range[0] <= pose.pitch <= self.pitch_range[1]
        ):
            return "turned_away"
        if face.sharpness < self.min_sharpness:
            return "blurry"
        return None

    def judge(self, rgb: RGB, faces: Sequence[Face]) -> list[str | None]:
        """Each face's reason (``None``: it counts), the relative rule included.

        ``faces[i].sharpness`` must be measured on ``rgb`` (``measured``), as ``analyze_rgb``
        does.
        """
        h, w = rgb.shape[:2]
        reasons = [self.absolute(f, w, h) for f in faces]
        main = main_index(faces, reasons)
        if main is None:
            return reasons
        for i, f in enumerate(faces):
            if reasons[i] is None and i != main and is_bystander(rgb, f, faces[main]):
                reasons[i] = "background"
        return reasons


def main_index(faces: Sequence[Face], reasons: Sequence[str | None]) -> int | None:
    """The photo's main face: the largest that passes, its size weighed by the detector's
    certainty (``det_score ** 4``: a loose box of 0.88 does not beat a sure face a fifth
    smaller); ties: the sharper."""
    passing = [i for i, r in enumerate(reasons) if r is None]
    if not passing:
        return None
    return max(
        passing, key=lambda i: (faces[i].face_px * faces[i].det_score ** 4, faces[i].sharpness)
    )


def is_bystander(rgb: RGB, face: Face, main: Face) -> bool:
    if _covered(face.bbox, main.bbox) > BACKGROUND_OVERLAP:
        return True  # half inside the main face's box: a stranger's head behind it, or no face
    size = face.face_px / max(main.face_px, 1)
    if size < BACKGROUND_SIZE:
        return True
    if size >= BACKGROUND_NEAR:
        return False
    # Both at the smaller face's own scale: a sharp small face is as sharp as a sharp big one.
    px = max(8, min(SHARPNESS_PX, face.face_px))
    mine, theirs = sharpness_at(rgb, core_box(face), px), sharpness_at(rgb, core_box(main), px)
    return mine < BACKGROUND_SHARP * theirs


def _covered(a: Sequence[float], b: Sequence[float]) -> float:
    """The share of box ``a`` that lies inside box ``b``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = max(1e-6, (a[2] - a[0]) * (a[3] - a[1]))
    return ix * iy / area


def reading_order(faces: Sequence[Face]) -> list[int]:
    """Indexes of ``faces`` in reading order: rows top to bottom, left to right in a row.

    Faces are taken top to bottom; one joins the current row when its centre lies within
    ``ROW_TOLERANCE`` of a face height (its own or the row's mean, the larger) of the
    row's mean centre."""
    order = sorted(range(len(faces)), key=lambda i: _centre(faces[i])[1])
    rows: list[list[int]] = []
    for i in order:
        cy, height = _centre(faces[i])[1], faces[i].bbox[3] - faces[i].bbox[1]
        if rows:
            row = rows[-1]
            mean_cy = sum(_centre(faces[j])[1] for j in row) / len(row)
            mean_h = sum(faces[j].bbox[3] - faces[j].bbox[1] for j in row) / len(row)
            if abs(cy - mean_cy) <= ROW_TOLERANCE * max(height, mean_h):
                row.append(i)
                continue
        rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda j: faces[j].bbox[0])]


def _centre(face: Face) -> tuple[float, float]:
    x1, y1, x2, y2 = face.bbox
    return (x1 + x2) / 2, (y1 + y2) / 2


# What a participant is told when no face of their photo counts (422 ``no_face``).
ADVICE = {
    None: "no face was found: take a photo of your face, facing the camera, in good light",
    "low_score": "no clear face was found: face the camera in good light",
    "too_small": "the face is too small: come closer, or crop the photo around your face",
    "cut_off": "the face is cut by the photo's edge: keep your whole face in the picture",
    "turned_away": "the face is turned away: look straight at the camera",
    "blurry": "the face is blurry: hold still and take a sharper photo",
    "background": "the face is too far behind: come closer to the camera",
}


def no_face_message(faces: Sequence[Face], reasons: Sequence[str | None]) -> str:
    """Why nothing counts, from the largest face found, and what to do about it."""
    if not faces:
        return ADVICE[None]
    largest = max(range(len(faces)), key=lambda i: faces[i].face_px)
    return ADVICE.get(reasons[largest], ADVICE[None])
