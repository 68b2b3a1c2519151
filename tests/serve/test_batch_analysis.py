"""Real batching: one call of each per-face model for a whole batch, same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from huchu.analysis import Analysis, analyze_bytes
from huchu.batch_analysis import analyze_many
from huchu.engines.base import FaceEngine
from huchu.engines.insight import InsightFaceEngine
from huchu.errors import HuchuError, UnsupportedMedia
from tests import standins


def _many(engine: FaceEngine, items: list[bytes]) -> list[Analysis | HuchuError]:
    return analyze_many(engine, items, max_side=1600, min_score=0.75, max_pixels=40_000_000)


@pytest.fixture(scope="module")
def standin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    standins.buffalo_l(models)
    return models


def _eight(photos: dict[str, bytes]) -> list[bytes]:
    names = sorted(n for n in photos if n.endswith((".jpg", ".png")))
    return [photos[n] for n in (names * 8)[:8]]


def test_one_batch_of_eight_makes_one_call_per_face_model(
    standin_dir: Path, photos: dict[str, bytes]
) -> None:
    engine = InsightFaceEngine(standin_dir)
    calls = standins.count_model_calls(engine.models)
    results = _many(engine, _eight(photos))
    assert all(isinstance(r, Analysis) and len(r.faces) == 1 for r in results)
    assert calls["recognition"] == 1
    assert calls["genderage"] == 1
    assert calls["landmark_3d_68"] == 1 and calls["landmark_2d_106"] == 1
    assert calls["detection"] == 8  # detection stays per image


def test_batched_answers_match_insightface_per_face(
    standin_dir: Path, photos: dict[str, bytes]
) -> None:
    engine = InsightFaceEngine(standin_dir)
    items = _eight(photos)
    batched = _many(engine, items)
    for data, got in zip(items, batched, strict=True):
        assert isinstance(got, Analysis)
        single = analyze_bytes(engine, data)
        assert len(single.faces) == len(got.faces)
        # The same faces in the same (reading) order, with the same sharpness: the quality
        # gate judges the same over Ray as in-process.
        for a, b in zip(single.faces, got.faces, strict=True):
            assert a.bbox == b.bbox and a.gender == b.gender and a.age == b.age
            assert a.sharpness == b.sharpness
            np.testing.assert_allclose(a.embedding, b.embedding, atol=1e-5)
            np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)
    # insightface's own face-by-face path gives the same embedding and attributes.
    from huchu.imaging.decode import decode_image

    rgb = decode_image(items[0]).rgb
    own = engine._app.get(np.ascontiguousarray(rgb[:, :, ::-1]))  # the library's loop
    mine = engine.detect(rgb)
    assert len(own) == len(mine) == 1
    np.testing.assert_allclose(
        own[0].embedding / np.linalg.norm(own[0].embedding), mine[0].embedding, atol=1e-5
    )
    assert mine[0].age == float(own[0].age)
    assert mine[0].gender == ("male" if int(own[0].gender) == 1 else "female")
    np.testing.assert_allclose(own[0].landmark_3d_68[:, :2], mine[0].landmarks, atol=1e-3)


def test_a_bad_item_fails_alone(standin_dir: Path, photos: dict[str, bytes]) -> None:
    engine = InsightFaceEngine(standin_dir)
    results = _many(engine, [photos["t1.jpg"], b"junk", b""])
    assert isinstance(results[0], Analysis) and len(results[0].faces) == 1
    assert isinstance(results[1], UnsupportedMedia)
    assert isinstance(results[2], HuchuError)


def test_engines_without_batching_go_image_by_image(
    bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    results = _many(bundled_engine, [photos["obama.jpg"], b"junk"])
    single = analyze_bytes(bundled_engine, photos["obama.jpg"])
    first = results[0]
    assert isinstance(first, Analysis)
    assert [f.bbox for f in first.faces] == [f.bbox for f in single.faces]
    assert isinstance(results[1], UnsupportedMedia)
