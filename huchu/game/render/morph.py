"""Morph rendering: stream faces into float sums on a canonical shape, render on the mean shape."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from huchu.game.average import COHORTS, cohorts_of
from huchu.game.render.shape import (
    H,
    W,
    apply,
    canonical,
    canvas_points,
    flipped,
    similarity_to_canvas,
)
from huchu.game.render.warp import label_map, warp

RGB = NDArray[np.uint8]


@lru_cache(maxsize=1)
def _canonical_labels() -> NDArray[np.int32]:
    return label_map(canonical(), W, H)


Warp = tuple[NDArray[np.float32], NDArray[np.float64]]  # texture on the canvas, its points


def warp_to_canonical(image: RGB, landmarks68: NDArray[np.float64]) -> Warp | None:
    """One warp from the original photo onto the canonical shape; None if it would fold."""
    lm = np.asarray(landmarks68, dtype=np.float64)
    if lm.shape != (68, 2):
        return None
    pts = canvas_points(lm)
    if flipped(pts):
        return None
    m = similarity_to_canvas(lm)
    inv = np.asarray(cv2.invertAffineTransform(m), dtype=np.float64)
    src = apply(inv, pts)  # face points come back to the photo, border points follow the alignment
    tex = warp(image, src, canonical(), W, H, labels=_canonical_labels())
    return tex, pts


SHARPEN = 1.0


def _sharpen(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Unsharp mask: averaging blurs fine detail that the eye (and the engine) reads."""
    blurred = np.asarray(cv2.GaussianBlur(image, (0, 0), 2.0), dtype=np.float32)
    return np.asarray(cv2.addWeighted(image, 1 + SHARPEN, blurred, -SHARPEN, 0), np.float32)


@dataclass
class MorphSum:
    texture: NDArray[np.float64] = field(default_factory=lambda: np.zeros((H, W, 3)))
    shape: NDArray[np.float64] = field(default_factory=lambda: np.zeros_like(canonical()))
    count: int = 0

    def add(self, tex: NDArray[np.float32], pts: NDArray[np.float64], sign: int = 1) -> None:
        self.texture += sign * tex.astype(np.float64)
        self.shape += sign * pts
        self.count += sign

    def render(self) -> RGB | None:
        if self.count <= 0:
            return None
        avg = self.texture / self.count
        mean_shape = self.shape / self.count
        if flipped(mean_shape):  # never fold the picture: show it on the canonical shape
            mean_shape = canonical()
        out = warp(avg, canonical(), mean_shape, W, H, interpolation=cv2.INTER_CUBIC)
        image: RGB = np.clip(_sharpen(out) + 0.5, 0, 255).astype(np.uint8)
        return image


@dataclass
class MorphState:
    cohorts: dict[str, MorphSum] = field(default_factory=lambda: {c: MorphSum() for c in COHORTS})
    skipped: int = 0

    def add(
        self, image: RGB, landmarks68: list[list[float]] | None, gender: str | None, sign: int = 1
    ) -> bool:
        if landmarks68 is None:
            self.skipped += sign
            return False
        warped = warp_to_canonical(image, np.asarray(landmarks68, dtype=np.float64))
        if warped is None:
            self.skipped += sign
            return False
        self.add_warped(warped, gender, sign)
        return True

    def merge(self, other: MorphState) -> None:
        """Add another state's sums to these (faces summed elsewhere, folded in at once)."""
        self.skipped += other.skipped
        for c, s in other.cohorts.items():
            mine = self.cohorts[c]
            mine.texture += s.texture
            mine.shape += s.shape
            mine.count += s.count

    def add_warped(self, warped: Warp, gender: str | None, sign: int = 1) -> None:
        tex, pts = warped
        for c in cohorts_of(gender):
            self.cohorts[c].add(tex, pts, sign)

    def to_bytes(self) -> bytes:
        arrays: dict[str, NDArray[np.generic]] = {"skipped": np.array(self.skipped)}
        for c, s in self.cohorts.items():
            arrays[f"{c}_texture"] = s.texture
            arrays[f"{c}_shape"] = s.shape
            arrays[f"{c}_count"] = np.array(s.count)
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> MorphState:
        z = np.load(io.BytesIO(data))
        state = cls(skipped=int(z["skipped"]))
        for c in COHORTS:
            state.cohorts[c] = MorphSum(z[f"{c}_texture"], z[f"{c}_shape"], int(z[f"{c}_count"]))
        return state
