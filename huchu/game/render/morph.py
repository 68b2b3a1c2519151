"""Morph rendering: stream faces into float sums on a canonical shape, render on the mean shape.

The canvas is the size the average is shown at (768x960), so nothing is upscaled. An
average of aligned faces keeps their shared structure (eyes, brows, lips) but loses the
fine detail each face has on its own: residual misalignment and uncorrelated skin
texture cancel out, the finest band of the average carrying a quarter of the inputs'
contrast. So each face also adds its detail energy per frequency band (differences of
Gaussians inside the face) to the sums, and the render gives every band of the mean
texture back the contrast the inputs had there, capped (``MAX_GAIN``) so that seams and
ghosts are not lifted into lines. Band gains, not an unsharp mask: a mask's single wide
kernel rings around the strong edges (eyes, lips) long before the fine band is restored.
"""

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


# Band edges (Gaussian sigmas, canvas pixels): band i is blur(sigma[i-1]) - blur(sigma[i]).
BANDS = (1.0, 2.0, 4.0, 8.0)
MAX_GAIN = 4.0
# The gains when no face's detail was measured (sums from before the bands were kept):
# what the celebrity sample's averages need (docs/benchmarks.md).
DEFAULT_GAINS = (3.5, 2.8, 2.1, 1.6)


@lru_cache(maxsize=1)
def detail_mask() -> NDArray[np.bool_]:
    """Where detail is measured on the canvas: inside the canonical face (jaw to forehead)."""
    from huchu.game.render.present import face_mask

    return np.asarray(face_mask(canonical())[..., 0] > 0.5)


def band_energy(texture: NDArray[np.float32]) -> NDArray[np.float64]:
    """Variance of each frequency band of the texture's luminance inside the face."""
    gray = cv2.cvtColor(np.asarray(texture, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    mask = detail_mask()
    out = np.zeros(len(BANDS))
    previous = gray
    for i, sigma in enumerate(BANDS):
        blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
        out[i] = float((previous - blurred)[mask].var())
        previous = blurred
    return out


def restore_detail(texture: NDArray[np.float32], gains: NDArray[np.float64]) -> NDArray[np.float32]:
    """``texture`` with band ``i`` multiplied by ``gains[i]`` (the coarse rest untouched)."""
    out = np.asarray(texture, dtype=np.float32)
    lifted = out.copy()
    previous = out
    for sigma, gain in zip(BANDS, gains, strict=True):
        blurred = np.asarray(cv2.GaussianBlur(out, (0, 0), sigma), dtype=np.float32)
        if gain != 1.0:
            lifted += np.float32(gain - 1.0) * (previous - blurred)
        previous = blurred
    return lifted


def detail_gains(
    inputs: NDArray[np.float64] | None, average: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per band, the contrast the inputs had over the contrast the average kept (capped)."""
    if inputs is None or not np.all(inputs > 0):
        return np.asarray(DEFAULT_GAINS, dtype=np.float64)
    ratio = np.sqrt(inputs / np.maximum(average, 1e-6))
    return np.asarray(np.clip(ratio, 1.0, MAX_GAIN), dtype=np.float64)


@dataclass
class MorphSum:
    """Sums over a cohort's faces: textures on the canonical shape (float32: 11 MB), their
    point sets, and their detail energy per band."""

    texture: NDArray[np.float32] = field(default_factory=lambda: np.zeros((H, W, 3), np.float32))
    shape: NDArray[np.float64] = field(default_factory=lambda: np.zeros_like(canonical()))
    count: int = 0
    detail: NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(BANDS)))
    detailed: int = 0  # faces whose detail is in ``detail`` (sums migrated from before: fewer)

    def add(
        self,
        tex: NDArray[np.float32],
        pts: NDArray[np.float64],
        sign: int = 1,
        detail: NDArray[np.float64] | None = None,
    ) -> None:
        if sign > 0:
            self.texture += tex
        else:
            self.texture -= tex
        self.shape += sign * pts
        self.count += sign
        if detail is not None:
            self.detail += sign * detail
            self.detailed += sign

    def gains(self, average: NDArray[np.float32]) -> NDArray[np.float64]:
        inputs = self.detail / self.detailed if self.detailed > 0 else None
        return detail_gains(inputs, band_energy(average))

    def render(self) -> RGB | None:
        if self.count <= 0:
            return None
        avg = self.texture / np.float32(self.count)
        mean_shape = self.shape / self.count
        if flipped(mean_shape):  # never fold the picture: show it on the canonical shape
            mean_shape = canonical()
        detailed = restore_detail(avg, self.gains(avg))
        out = warp(detailed, canonical(), mean_shape, W, H, interpolation=cv2.INTER_CUBIC)
        image: RGB = np.clip(out + 0.5, 0, 255).astype(np.uint8)
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
            mine.detail += s.detail
            mine.detailed += s.detailed

    def add_warped(self, warped: Warp, gender: str | None, sign: int = 1) -> None:
        tex, pts = warped
        detail = band_energy(tex)
        for c in cohorts_of(gender):
            self.cohorts[c].add(tex, pts, sign, detail)

    def to_bytes(self) -> bytes:
        arrays: dict[str, NDArray[np.generic]] = {"skipped": np.array(self.skipped)}
        for c, s in self.cohorts.items():
            arrays[f"{c}_texture"] = s.texture
            arrays[f"{c}_shape"] = s.shape
            arrays[f"{c}_count"] = np.array(s.count)
            arrays[f"{c}_detail"] = s.detail
            arrays[f"{c}_detailed"] = np.array(s.detailed)
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> MorphState:
        z = np.load(io.BytesIO(data))
        state = cls(skipped=int(z["skipped"]))
        for c in COHORTS:
            texture = np.asarray(z[f"{c}_texture"], dtype=np.float32)
            shape = np.asarray(z[f"{c}_shape"], dtype=np.float64)
            if texture.shape != (H, W, 3):  # sums from a smaller canvas (256x320, before 2026-12)
                factor = W / texture.shape[1]
                texture = np.asarray(
                    cv2.resize(texture, (W, H), interpolation=cv2.INTER_CUBIC), np.float32
                )
                shape = shape * factor
            detailed = f"{c}_detail" in z.files
            state.cohorts[c] = MorphSum(
                texture,
                shape,
                int(z[f"{c}_count"]),
                np.asarray(z[f"{c}_detail"]) if detailed else np.zeros(len(BANDS)),
                int(z[f"{c}_detailed"]) if detailed else 0,
            )
        return state
