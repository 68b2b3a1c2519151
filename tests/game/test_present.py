"""Averages for a projector: 768x960, the face feathered onto a clean backdrop, a small timeline."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from huchu.game.render.present import OUT_H, OUT_W, backdrop, pair_image, present, timeline_webp
from huchu.game.render.shape import H, W, canonical


def _noisy() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 255, (H, W, 3), dtype=np.uint8)


def test_the_face_is_kept_and_the_rest_is_a_clean_backdrop() -> None:
    shape = canonical()
    out = present(_noisy(), shape)
    assert out.shape == (OUT_H, OUT_W, 3)
    clean = backdrop()
    for y, x in ((5, 5), (5, OUT_W - 6), (OUT_H - 6, 5), (OUT_H - 6, OUT_W - 6)):
        assert np.abs(out[y, x].astype(float) - clean[y, x]).max() <= 1.0  # no ghosted edges
    nose = (shape[30] * (OUT_W / W)).astype(int)
    big = np.asarray(Image.fromarray(_noisy()).resize((OUT_W, OUT_H), Image.Resampling.LANCZOS))
    patch = (slice(nose[1] - 5, nose[1] + 5), slice(nose[0] - 5, nose[0] + 5))
    # The face stays: the picture (up to the resampler: pure noise is its worst case), far
    # from the wall.
    assert np.abs(out[patch].astype(int) - big[patch].astype(int)).mean() < 6.0
    assert np.abs(out[patch].astype(float) - clean[patch]).mean() > 40.0


def test_the_edge_fades_instead_of_a_seam() -> None:
    out = present(np.zeros((H, W, 3), np.uint8), canonical()).astype(float).mean(axis=2)
    row = out[OUT_H // 2]
    steps = np.abs(np.diff(row))
    assert steps.max() < 25  # a black face on a light wall, and still no hard step


def test_pair_is_twice_as_wide_and_timeline_is_small() -> None:
    one = present(_noisy(), canonical())
    assert pair_image(one, None).shape == (OUT_H, 2 * OUT_W, 3)
    data = timeline_webp([np.roll(one, 40 * i, axis=1) for i in range(6)])
    anim = Image.open(io.BytesIO(data))
    assert anim.format == "WEBP" and getattr(anim, "n_frames", 1) == 6
    assert anim.size == (192, 240)
    assert len(data) < 100_000
