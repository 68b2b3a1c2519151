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
from collections.abc import Sequence
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


# Texture on the canvas, its points, and where the texture is the face's own (per pixel,
# 0-1: zero outside the photo and inside other faces of the photo); ``None``: everywhere, as
# faces were summed before the weights were kept.
Warp = tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.float32] | None]
Box = Sequence[float]

# How far another face's region reaches around its detector box (half-axes of an ellipse,
# in box widths and heights: the head, hair and chin), and how soft the edge of what a face
# owns is on the canvas (pixels, inward).
OTHER_REACH = (1.1, 1.35)
FEATHER = 10.0


def warp_to_canonical(
    image: RGB, landmarks68: NDArray[np.float64], others: Sequence[Box] = ()
) -> Warp | None:
    """One warp from the original photo onto the canonical shape; None if it would fold.
    ``others``: the boxes of the photo's other faces (counted or not): their pixels never
    enter this face's sums."""
    lm = np.asarray(landmarks68, dtype=np.float64)
    if lm.shape != (68, 2):
        return None
    pts = canvas_points(lm)
    if flipped(pts):
        return None
    m = similarity_to_canvas(lm)
    inv = np.asarray(cv2.invertAffineTransform(m), dtype=np.float64)
    src = apply(inv, pts)  # face points come back to the photo, border points follow the alignment
    labels = _canonical_labels()
    tex = warp(image, src, canonical(), W, H, labels=labels)
    mask = own_mask(image.shape[1], image.shape[0], lm, others)
    moved = warp(mask, src, canonical(), W, H, labels=labels, border=cv2.BORDER_CONSTANT)
    return tex, pts, inner_feather(moved)


def own_mask(
    width: int, height: int, landmarks68: NDArray[np.float64], others: Sequence[Box]
) -> NDArray[np.float32]:
    """1 where the photo shows this face's own surroundings: 0 inside the other faces'
    regions (ellipses around their boxes); the face itself (jaw to brows) always 1."""
    mask = np.ones((height, width), np.uint8)
    for box in others:
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        centre = (round((x1 + x2) / 2), round((y1 + y2) / 2))
        axes = (
            max(1, round(OTHER_REACH[0] * (x2 - x1))),
            max(1, round(OTHER_REACH[1] * (y2 - y1))),
        )
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 0, -1)
    if others:
        hull = cv2.convexHull(np.round(landmarks68[:27]).astype(np.int32))
        cv2.fillConvexPoly(mask, np.asarray(hull, np.int32).reshape(-1, 2), 1)
    return mask.astype(np.float32)


def inner_feather(mask: NDArray[np.float32]) -> NDArray[np.float32]:
    """The warped mask softened inward only: 0 at and beyond its edge, 1 a few pixels in
    (no other head, and nothing outside the photo, leaks in through the blur)."""
    if float(mask.min()) >= 1.0:
        return mask
    soft = cv2.GaussianBlur(mask, (0, 0), FEATHER)
    inner = np.clip(2.0 * soft - 1.0, 0.0, 1.0) * (mask > 0.999)
    return np.asarray(inner, dtype=np.float32)


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


# Pixels covered by fewer faces than this (in summed weight) are blended toward a smooth
# fill drawn from the pixels around them: never one face alone.
MIN_COVER = 2.0


@dataclass
class MorphSum:
    """Sums over a cohort's faces: textures on the canonical shape, each weighted per pixel
    by where it is the face's own (float32: 11 MB), the weights (4 MB), their point sets,
    and their detail energy per band."""

    texture: NDArray[np.float32] = field(default_factory=lambda: np.zeros((H, W, 3), np.float32))
    shape: NDArray[np.float64] = field(default_factory=lambda: np.zeros_like(canonical()))
    count: int = 0
    detail: NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(BANDS)))
    detailed: int = 0  # faces whose detail is in ``detail`` (sums migrated from before: fewer)
    weight: NDArray[np.float32] = field(default_factory=lambda: np.zeros((H, W), np.float32))
    # The faces' picture weights summed (each person one, in ``average_by=person``): what
    # the shape and detail sums are divided by. Equal to ``count`` when every face weighs 1.
    mass: float = 0.0
    detail_mass: float = 0.0

    def add(
        self,
        tex: NDArray[np.float32],
        pts: NDArray[np.float64],
        sign: int = 1,
        detail: NDArray[np.float64] | None = None,
        weight: NDArray[np.float32] | None = None,
        scale: float = 1.0,
        faces: int | None = None,
    ) -> None:
        """Add ``sign * scale`` of one face (its picture weight), counting ``faces`` faces
        (``sign`` by default; 0 when only a face's weight changes)."""
        amount = np.float32(sign * scale)
        own = tex if weight is None else tex * weight[..., None]
        self.texture += amount * own
        self.weight += amount * (np.float32(1.0) if weight is None else weight)
        self.shape += float(amount) * pts
        self.count += sign if faces is None else faces
        self.mass += float(amount)
        if detail is not None:
            self.detail += float(amount) * detail
            self.detailed += sign if faces is None else faces
            self.detail_mass += float(amount)

    def mean_shape(self) -> NDArray[np.float64] | None:
        """The faces' mean points on the canvas (weighted as the texture), None when empty."""
        if self.count <= 0:
            return None
        mean: NDArray[np.float64] = self.shape / (self.mass if self.mass > 1e-9 else self.count)
        return mean

    def mean_texture(self) -> NDArray[np.float32]:
        """The weighted mean texture; where few faces cover a pixel, blended toward a
        push-pull fill from the covered pixels around it: never one face alone."""
        cover = np.maximum(self.weight, np.float32(0.0))
        avg = self.texture / np.maximum(cover, np.float32(1e-6))[..., None]
        need = np.float32(max(min(MIN_COVER, self.mass), 1e-6))
        alpha = np.clip(cover / need, 0.0, 1.0)
        if float(alpha.min()) >= 1.0:
            return np.asarray(avg, dtype=np.float32)
        from huchu.imaging.portrait import push_pull

        prior = push_pull(np.where(alpha[..., None] > 0, avg, 0.0).astype(np.float32), alpha)
        a = alpha[..., None]
        return np.asarray(a * avg + (1.0 - a) * prior, dtype=np.float32)

    def gains(self, average: NDArray[np.float32]) -> NDArray[np.float64]:
        inputs = self.detail / self.detail_mass if self.detail_mass > 1e-9 else None
        return detail_gains(inputs, band_energy(average))

    def render(self) -> RGB | None:
        if self.count <= 0:
            return None
        avg = self.mean_texture()
        mean_shape = self.mean_shape()
        assert mean_shape is not None
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
            mine.weight += s.weight
            mine.mass += s.mass
            mine.detail_mass += s.detail_mass

    def add_warped(
        self,
        warped: Warp,
        gender: str | None,
        sign: int = 1,
        weighted: bool = True,
        scale: float = 1.0,
        faces: int | None = None,
    ) -> None:
        """Add (or take out) one face's warp at its picture weight ``scale``;
        ``weighted=False`` as faces were summed before per-pixel weights (a face is always
        taken out as it was added); ``faces=0``: only its weight changes."""
        tex, pts, weight = warped
        detail = band_energy(tex)
        for c in cohorts_of(gender):
            self.cohorts[c].add(tex, pts, sign, detail, weight if weighted else None, scale, faces)

    def to_bytes(self) -> bytes:
        arrays: dict[str, NDArray[np.generic]] = {"skipped": np.array(self.skipped)}
        for c, s in self.cohorts.items():
            arrays[f"{c}_texture"] = s.texture
            arrays[f"{c}_shape"] = s.shape
            arrays[f"{c}_count"] = np.array(s.count)
            arrays[f"{c}_detail"] = s.detail
            arrays[f"{c}_detailed"] = np.array(s.detailed)
            arrays[f"{c}_weight"] = s.weight
            arrays[f"{c}_mass"] = np.array([s.mass, s.detail_mass])
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
            count = int(z[f"{c}_count"])
            if f"{c}_weight" in z.files:
                weight = np.asarray(z[f"{c}_weight"], dtype=np.float32)
            else:  # sums from before per-pixel weights: every face covered every pixel
                weight = np.full((H, W), np.float32(count), np.float32)
            n_detailed = int(z[f"{c}_detailed"]) if detailed else 0
            if f"{c}_mass" in z.files:  # summed with picture weights
                mass, detail_mass = (float(v) for v in z[f"{c}_mass"])
            else:  # every face weighed one
                mass, detail_mass = float(count), float(n_detailed)
            state.cohorts[c] = MorphSum(
                texture,
                shape,
                count,
                np.asarray(z[f"{c}_detail"]) if detailed else np.zeros(len(BANDS)),
                n_detailed,
                weight,
                mass,
                detail_mass,
            )
        return state
