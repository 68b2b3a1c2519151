"""The bundled dlib engine on real photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from huchu.analysis import analyze_bytes
from huchu.engines.base import Face, FaceEngine
from tests import malformed


def accepted(engine: FaceEngine, data: bytes) -> list[Face]:
    return [f for f in analyze_bytes(engine, data).faces if f.det_score >= 0.75]


def main_face(engine: FaceEngine, data: bytes) -> Face:
    faces = accepted(engine, data)
    assert faces, "no face found"
    return max(faces, key=lambda f: f.face_px)


def test_group_photo_has_six_faces(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    faces = accepted(bundled_engine, photos["t1.jpg"])
    assert len(faces) == 6
    # Numbered in reading order: rows top to bottom, left to right within a row.
    centres = [((f.bbox[0] + f.bbox[2]) / 2, (f.bbox[1] + f.bbox[3]) / 2) for f in faces]
    for (x0, y0), (x1, y1), f in zip(centres, centres[1:], faces, strict=False):
        same_row = abs(y1 - y0) <= (f.bbox[3] - f.bbox[1]) / 2
        assert (same_row and x1 > x0) or y1 > y0


def test_face_record_is_complete(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    f = main_face(bundled_engine, photos["obama.jpg"])
    assert 0.0 <= f.det_score <= 1.0
    assert len(f.kps) == 5 and len(f.landmarks) == 68
    assert f.embedding.shape == (128,)
    assert np.linalg.norm(f.embedding) == pytest.approx(1.0, abs=1e-5)
    assert f.engine == "dlib" and f.model_id == bundled_engine.info.model_id
    assert f.face_px > 100 and f.sharpness > 0
    x1, y1, x2, y2 = f.bbox
    left_eye, right_eye = f.kps[0], f.kps[1]
    assert x1 < left_eye[0] < right_eye[0] < x2 and y1 < left_eye[1] < y2


def test_same_person_threshold_separates(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    same = bundled_engine.info.thresholds.same_person
    obama = main_face(bundled_engine, photos["obama.jpg"]).embedding
    for other in ("obama2.jpg", "obama3.jpg"):
        assert float(obama @ main_face(bundled_engine, photos[other]).embedding) > same, other
    assert float(obama @ main_face(bundled_engine, photos["biden.jpg"]).embedding) < same


def test_gender(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    assert main_face(bundled_engine, photos["astronaut.png"]).gender == "female"
    assert main_face(bundled_engine, photos["Tom_Hanks_54745.png"]).gender == "male"
    assert main_face(bundled_engine, photos["obama.jpg"]).gender == "male"


def test_cat_has_no_face(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    assert accepted(bundled_engine, photos["chelsea.png"]) == []


def test_tight_selfie_crop_is_found(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    face = main_face(bundled_engine, photos["obama.jpg"])
    img = Image.open(io.BytesIO(photos["obama.jpg"])).convert("RGB")
    x1, y1, x2, y2 = face.bbox
    # The face box covers ~90% of the crop's area.
    side = max(x2 - x1, y2 - y1) / 0.9**0.5
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    crop = img.crop(
        (int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2))
    )
    data = malformed.encode(crop.resize((480, 480)), "JPEG", quality=92)
    found = main_face(bundled_engine, data)
    assert found.face_px > 300
    assert float(found.embedding @ face.embedding) > bundled_engine.info.thresholds.same_person


def test_odd_encodings_still_find_the_face(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    reference = main_face(bundled_engine, photos["obama.jpg"]).embedding
    for name, data in malformed.variants(photos["obama.jpg"]).items():
        face = main_face(bundled_engine, data)
        assert float(face.embedding @ reference) > bundled_engine.info.thresholds.same_person, name


def test_phone_photo_coordinates_are_upright(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    upright = main_face(bundled_engine, photos["obama.jpg"])
    rotated = main_face(bundled_engine, malformed.phone_photo(photos["obama.jpg"]))
    assert rotated.bbox == pytest.approx(upright.bbox, abs=25)


def test_big_photo_is_analysed_downscaled_and_mapped_back(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    img = Image.open(io.BytesIO(photos["obama.jpg"])).convert("RGB")
    big = img.resize((img.width * 2, img.height * 2))
    small_face = main_face(bundled_engine, photos["obama.jpg"])
    big_face = main_face(bundled_engine, malformed.encode(big, "JPEG", quality=92))
    assert big_face.bbox == pytest.approx(tuple(2 * v for v in small_face.bbox), abs=30)


def test_malformed_inputs_never_crash(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    from huchu.errors import HuchuError

    for name, (data, code) in malformed.broken(photos["obama.jpg"]).items():
        if code == "no_face":
            assert analyze_bytes(bundled_engine, data).faces == [], name
            continue
        with pytest.raises(HuchuError) as info:
            analyze_bytes(bundled_engine, data)
        assert info.value.code == code, name
