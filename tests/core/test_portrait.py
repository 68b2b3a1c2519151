"""ID-card portraits: one framing for every face, and a soft fill where a photo ends."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from huchu.analysis import analyze_bytes
from huchu.engines.base import Face, FaceEngine
from huchu.imaging import portrait
from huchu.imaging.portrait import CARD_W, EYE_DX, EYE_Y, PHOTO_H

SIZE = (CARD_W, PHOTO_H)


def only_face(engine: FaceEngine, data: bytes) -> tuple[np.ndarray, Face]:
    rgb = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
    faces = [f for f in analyze_bytes(engine, data).faces if f.det_score >= 0.75]
    assert len(faces) == 1
    return rgb, faces[0]


def gradient(rgb: np.ndarray, where: np.ndarray) -> float:
    """Mean gradient magnitude (Sobel, grey levels) over ``where``: lines and streaks."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(np.abs(gx[where]) + np.abs(gy[where])))


def replicated(rgb: np.ndarray, m: np.ndarray) -> np.ndarray:
    """What the portrait was before the fill: the border's pixels drawn out."""
    return cv2.warpAffine(rgb, m, SIZE, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("name", ["obama_partial_face.jpg", "obama_partial_face2.jpg"])
def test_a_face_cut_by_the_border_gets_a_card_without_streaks(
    bundled_engine: FaceEngine, photos: dict[str, bytes], name: str
) -> None:
    """TESTDATA.md's partial faces run past the photo's left or right edge: the card fills
    that part smoothly instead of repeating the edge's pixels into stripes."""
    rgb, face = only_face(bundled_engine, photos[name])
    m = portrait.eye_transform(face)
    inside = portrait.coverage(m, rgb.shape[:2], SIZE)
    outside = cv2.erode((~inside).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert outside.mean() > 0.15  # the frame does run well past the photo
    aligned = portrait.align(rgb, face)
    streaky = replicated(rgb, m)
    # Replicated border pixels: streaks as busy as the face itself (48-64 on these photos).
    assert gradient(streaky, outside) > 30
    assert gradient(aligned, outside) < 15, gradient(aligned, outside)
    # The photo itself is untouched away from the feathered seam.
    core = cv2.erode(inside.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.array_equal(aligned[core], streaky[core])
    # The whole card (as uploads store it) carries the same photo area.
    card = portrait.card(rgb, face, "Event", 0)
    assert np.array_equal(card[:PHOTO_H], aligned)


def test_faces_inside_the_photo_are_not_touched(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    rgb, face = only_face(bundled_engine, photos["obama.jpg"])
    m = portrait.eye_transform(face)
    assert portrait.coverage(m, rgb.shape[:2], SIZE).all()
    assert np.array_equal(portrait.align(rgb, face), replicated(rgb, m))


@pytest.mark.parametrize("name", ["obama.jpg", "obama_partial_face.jpg", "astronaut.png"])
def test_every_card_has_the_eyes_at_one_height_and_one_scale(
    bundled_engine: FaceEngine, photos: dict[str, bytes], name: str
) -> None:
    _, face = only_face(bundled_engine, photos[name])
    m = portrait.eye_transform(face)
    eyes = np.hstack([np.asarray(face.kps[:2], np.float64), np.ones((2, 1))]) @ m.T
    want = [
        [CARD_W * (0.5 - EYE_DX), PHOTO_H * EYE_Y],
        [CARD_W * (0.5 + EYE_DX), PHOTO_H * EYE_Y],
    ]
    np.testing.assert_allclose(eyes, want, atol=1e-6)
