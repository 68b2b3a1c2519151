"""Who counts: the quality gate on crowd scenes built from real photos (tests/scenes.py)."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.typing import NDArray
from PIL import Image

from huchu.analysis import analyze_rgb
from huchu.config import DEFAULTS
from huchu.context import Context
from huchu.engines.base import Face, FaceEngine
from huchu.imaging.decode import decode_image
from huchu.quality import ADVICE, Gate, pose_of
from tests.functions.conftest import counts, upload
from tests.functions.test_photos_api import fetch
from tests.scenes import KINDS, Scene, encode, nearest, scene

GATE = Gate(min_score=DEFAULTS.min_det_score, min_px=DEFAULTS.min_face_px)
# Each kind of bystander and the reasons that are right for it: a face far behind is both
# smaller and blurrier, and the blur rule is judged first.
RIGHT = {
    "shrunk": {"background"},
    "behind": {"blurry", "background"},
    "blurred": {"blurry"},
    "cut": {"cut_off"},
    "above": {"background"},
}


def rgb_of(data: bytes) -> NDArray[np.uint8]:
    return decode_image(data, max_pixels=DEFAULTS.max_image_pixels).rgb


def main_face(engine: FaceEngine, rgb: np.ndarray) -> Face:
    return max(analyze_rgb(engine, rgb), key=lambda f: f.face_px * f.det_score**4)


def crowd(engine: FaceEngine, photos: dict[str, bytes], front: str, behind: str, kind: str) -> Scene:
    a, b = rgb_of(photos[front]), rgb_of(photos[behind])
    return scene(a, main_face(engine, a).bbox, b, main_face(engine, b).bbox, kind)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("front", "behind"), [("obama.jpg", "biden.jpg"), ("biden.jpg", "obama2.jpg")])
def test_bystanders_are_left_out_with_their_reason(
    bundled_engine: FaceEngine, photos: dict[str, bytes], front: str, behind: str, kind: str
) -> None:
    s = crowd(bundled_engine, photos, front, behind, kind)
    faces = analyze_rgb(bundled_engine, s.rgb)
    reasons = GATE.judge(s.rgb, faces)
    boxes = [f.bbox for f in faces]
    assert reasons[nearest(boxes, s.main)] is None, "the participant counts"
    j = nearest(boxes, s.bystander)
    assert j != nearest(boxes, s.main), "the bystander is found"
    assert reasons[j] in RIGHT[kind], (kind, reasons)
    assert s.expected in RIGHT[kind]


def test_every_face_of_a_group_selfie_counts(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    rgb = rgb_of(photos["t1.jpg"])
    faces = analyze_rgb(bundled_engine, rgb)
    assert len(faces) == 6
    assert GATE.judge(rgb, faces) == [None] * 6


def test_a_face_turned_away_is_judged_from_its_five_points(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    rgb = rgb_of(photos["obama.jpg"])
    face = main_face(bundled_engine, rgb)
    h, w = rgb.shape[:2]
    assert GATE.absolute(face, w, h) is None
    frontal = pose_of(face.kps)
    assert frontal is not None and frontal.yaw < 0.5
    le, re, nose, lm, rm = face.kps
    span = re[0] - le[0]
    # A profile: the nose beyond the far eye; a head tipped back: the nose above the eyes.
    profile = (le, re, (re[0] + 0.3 * span, nose[1]), lm, rm)
    tipped = (le, re, (nose[0], le[1] - 0.1 * span), lm, rm)
    for kps in (profile, tipped):
        turned = replace(face, kps=kps)
        assert GATE.absolute(turned, w, h) == "turned_away"


def test_upload_draws_red_boxes_with_a_legend_and_stores_no_bystander(
    client: TestClient, ctx: Context, bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    s = crowd(bundled_engine, photos, "obama.jpg", "biden.jpg", "shrunk")
    r = upload(client, encode(s.rgb), name="scene.png")
    assert r.status_code == 201, r.text
    faces = r.json()["faces"]
    assert [f["accepted"] for f in faces] == [True, False]  # the participant first
    counted, stranger = faces
    # Numbered in reading order: the stranger stands higher (top left), so it is 1.
    assert counted["face_id"] and counted["index"] == 2 and stranger["index"] == 1
    assert stranger["reason"] == "background" and stranger["face_id"] is None
    assert stranger["gender"] is None and stranger["age"] is None  # a bystander's: not kept
    assert counts(ctx)[1:] == (1, 1)  # one face vector, one photo record
    annotated = np.asarray(Image.open(io.BytesIO(fetch(client, r.json()["annotated_url"]))))
    x1, y1, _, y2 = (round(v) for v in stranger["bbox"])
    edge = annotated[y1 : y2 + 1, max(0, x1 - 2) : x1 + 3].reshape(-1, 3).astype(int)
    red = (edge[:, 0] > 180) & (edge[:, 1] < 90) & (edge[:, 2] < 90)
    assert red.mean() > 0.5, "the bystander's box is red"
    # The legend: a band across the bottom, darker than the photo there, with a red tag.
    h = annotated.shape[0]
    size = max(12, round(min(annotated.shape[:2]) / 24))
    margin = size // 2  # left of the red tag: the band alone, no words
    band, under = annotated[h - size :, :margin], s.rgb[h - size :, :margin]
    assert band.mean() < 0.75 * under.mean()
    assert _red_pixels(annotated[h - 2 * size :]) > 20 > _red_pixels(s.rgb[h - 2 * size :])


def _red_pixels(rgb: np.ndarray) -> int:
    p = rgb.reshape(-1, 3).astype(int)
    return int(((p[:, 0] > 200) & (p[:, 1] < 60) & (p[:, 2] < 60)).sum())


@pytest.mark.parametrize(
    ("make", "advice"),
    [("small", "too_small"), ("blurred", "blurry")],
)
def test_no_face_that_counts_is_422_with_what_to_do(
    client: TestClient,
    ctx: Context,
    bundled_engine: FaceEngine,
    photos: dict[str, bytes],
    make: str,
    advice: str,
) -> None:
    rgb = rgb_of(photos["obama.jpg"])
    if make == "small":
        k = 20 / main_face(bundled_engine, rgb).face_px
        small = cv2.resize(rgb, (round(rgb.shape[1] * k), round(rgb.shape[0] * k)), interpolation=cv2.INTER_AREA)
        rgb = np.asarray(cv2.copyMakeBorder(small, 40, 40, 40, 40, cv2.BORDER_REPLICATE), np.uint8)
    else:
        sigma = 0.06 * main_face(bundled_engine, rgb).face_px
        rgb = np.asarray(cv2.GaussianBlur(rgb, (0, 0), sigma), np.uint8)
    before = counts(ctx)
    r = upload(client, encode(rgb), name="bad.png")
    body: dict[str, Any] = r.json()
    assert r.status_code == 422 and body["error"]["code"] == "no_face", body
    assert body["error"]["message"] == ADVICE[advice]
    assert counts(ctx) == before


def test_reading_order_is_rows_then_left_to_right(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    """t1.jpg's six faces stand in two rows: numbered along the back row, then the front."""
    from huchu.quality import reading_order

    rgb = rgb_of(photos["t1.jpg"])
    faces = analyze_rgb(bundled_engine, rgb)
    assert reading_order(faces) == list(range(len(faces)))  # analyze_rgb numbers them so
    by_x = sorted(range(len(faces)), key=lambda i: faces[i].bbox[0])
    assert by_x != list(range(len(faces)))  # not merely left to right
    tops = [faces[i].bbox[1] for i in range(len(faces))]
    first_row = [i for i in range(len(faces)) if tops[i] < min(tops) + 0.5 * (faces[0].bbox[3] - faces[0].bbox[1])]
    assert first_row == list(range(len(first_row)))  # the higher row first
