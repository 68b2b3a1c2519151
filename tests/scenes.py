"""Crowd scenes built from real photos: a participant in front, strangers behind.

The quality gate's tests and its calibration (``benchmarks/gate.py``) use the same scenes:
a participant's photo with another photo's face pasted into the background, shrunk,
blurred, or cut by the border, as bystanders appear behind a selfie.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

RGB = NDArray[np.uint8]
Box = tuple[float, float, float, float]

# (name, the bystander's size as a share of the participant's face, blur sigma as a share
# of the bystander's face, where it stands, the reason the gate should give)
KINDS: dict[str, tuple[float, float, str, str]] = {
    "shrunk": (0.28, 0.0, "top-left", "background"),
    "behind": (0.55, 0.06, "top-left", "background"),
    "blurred": (0.75, 0.09, "top-left", "blurry"),
    "cut": (0.8, 0.0, "left-edge", "cut_off"),
    # Just behind and above the participant's head, as in a crowded hall: inside the
    # picture's canvas around the participant.
    "above": (0.3, 0.0, "above", "background"),
}


@dataclass(frozen=True)
class Scene:
    rgb: RGB
    main: Box  # where the participant's face is
    bystander: Box  # where the pasted face is
    expected: str  # the reason the bystander should get


def scene(participant: RGB, main: Box, other: RGB, other_box: Box, kind: str) -> Scene:
    """The participant's photo on a wider canvas with ``other``'s face pasted behind."""
    share, blur, where, expected = KINDS[kind]
    # A canvas with room around the participant: the photo on the right, its left edge
    # drawn out to the left as a backdrop (no seam for a detector to see).
    h, w = participant.shape[:2]
    up = h // 3 if where == "above" else 0  # room above the head for a face behind it
    canvas = cv2.copyMakeBorder(participant, up, 0, w // 2, 0, cv2.BORDER_REPLICATE)
    backdrop = cv2.GaussianBlur(canvas, (0, 0), max(2.0, h / 40))
    canvas[:, : w // 2] = backdrop[:, : w // 2]
    canvas[:up] = backdrop[:up]
    main_box = (main[0] + w // 2, main[1] + up, main[2] + w // 2, main[3] + up)
    # The stranger's face with its head around it, scaled to its size in the scene.
    side = max(other_box[2] - other_box[0], other_box[3] - other_box[1])
    target = share * max(main[2] - main[0], main[3] - main[1])
    k = target / side
    cx, cy = (other_box[0] + other_box[2]) / 2, (other_box[1] + other_box[3]) / 2
    half = 0.9 * side
    # A square centred on the face (the photo's edge repeated where it runs out), so the
    # head fades out evenly around the face.
    pad = round(half) + 1
    padded = cv2.copyMakeBorder(other, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    x0, y0 = round(cx - half), round(cy - half)
    n = round(2 * half)
    crop = padded[y0 + pad : y0 + pad + n, x0 + pad : x0 + pad + n]
    size = (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))
    patch = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    if blur > 0:
        patch = cv2.GaussianBlur(patch, (0, 0), blur * target)
    ph, pw = patch.shape[:2]
    # Feathered edges: a stranger's head fades into the backdrop, with no hard seam.
    yy, xx = np.mgrid[0:ph, 0:pw]
    r = np.hypot((xx - pw / 2) / (pw / 2), (yy - ph / 2) / (ph / 2))
    alpha = np.clip((1.0 - r) / 0.25, 0.0, 1.0)[..., None]
    # Where the face of the patch lands: its box moved and scaled with it.
    fx, fy = (other_box[0] - x0) * k, (other_box[1] - y0) * k
    # At the left edge, about half the face lies outside the photo.
    left = -round(fx + 0.45 * target) if where == "left-edge" else round(0.05 * w)
    top = round(0.05 * h)
    if where == "above":  # centred over the participant's head, its chin at their hairline
        mh = main_box[3] - main_box[1]
        left = round((main_box[0] + main_box[2]) / 2 - fx - target / 2)
        top = round(main_box[1] - 0.4 * mh - fy - target)
    sx0, sy0 = max(0, left), max(0, top)
    sx1, sy1 = min(canvas.shape[1], left + pw), min(canvas.shape[0], top + ph)
    a = alpha[sy0 - top : sy1 - top, sx0 - left : sx1 - left]
    under = canvas[sy0:sy1, sx0:sx1].astype(np.float64)
    over = patch[sy0 - top : sy1 - top, sx0 - left : sx1 - left].astype(np.float64)
    canvas[sy0:sy1, sx0:sx1] = np.round(a * over + (1 - a) * under).astype(np.uint8)
    by = (left + fx, top + fy, left + fx + target, top + fy + target)
    return Scene(np.ascontiguousarray(canvas), main_box, by, expected)


def encode(rgb: RGB) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def nearest(boxes: list[Box], box: Box) -> int:
    """The index of the box whose centre is nearest ``box``'s."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return int(
        np.argmin([((b[0] + b[2]) / 2 - cx) ** 2 + ((b[1] + b[3]) / 2 - cy) ** 2 for b in boxes])
    )
