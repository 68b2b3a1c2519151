"""The insightface path end to end, on stand-in ONNX files with buffalo_l's shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from huchu.analysis import analyze_bytes
from huchu.engines.factory import build_engine, resolve_engine_name
from huchu.engines.insight import InsightFaceEngine, choose_providers
from huchu.errors import Unavailable
from tests import standins


@pytest.fixture(scope="module")
def standin_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    standins.buffalo_l(models)
    return models


def test_auto_picks_insightface_only_when_files_exist(standin_models: Path, tmp_path: Path) -> None:
    assert resolve_engine_name("auto", standin_models) == "insightface"
    assert resolve_engine_name("auto", tmp_path) == "dlib"
    assert resolve_engine_name("dlib", standin_models) == "dlib"


def test_missing_files_say_which_and_how(tmp_path: Path) -> None:
    with pytest.raises(Unavailable) as info:
        InsightFaceEngine(tmp_path)
    assert "det_10g.onnx" in info.value.message and "huchu models pull" in info.value.message


def test_providers_fall_back_to_cpu() -> None:
    providers = choose_providers()
    assert providers[-1] == "CPUExecutionProvider"


def test_standin_pack_runs_end_to_end(standin_models: Path, photos: dict[str, bytes]) -> None:
    engine = build_engine("insightface", standin_models)
    assert engine.info.engine == "insightface"
    assert engine.info.embedding_dim == 512
    assert engine.info.thresholds.lookalike == 0.2
    result = analyze_bytes(engine, photos["astronaut.png"])
    assert len(result.faces) == 1
    f = result.faces[0]
    assert f.det_score == pytest.approx(0.93, abs=1e-6)
    assert f.embedding.shape == (512,)
    assert np.linalg.norm(f.embedding) == pytest.approx(1.0, abs=1e-5)
    assert len(f.kps) == 5 and len(f.landmarks) == 68
    assert f.gender in ("female", "male") and f.age is not None
    assert f.pose is not None
    x1, _y1, x2, _y2 = f.bbox
    assert 0 <= x1 < f.kps[0][0] < f.kps[1][0] < x2 <= result.width
    assert f.engine == "insightface" and "buffalo_l/w600k_r50" in f.model_id


def test_standin_embeddings_follow_the_picture(
    standin_models: Path, photos: dict[str, bytes]
) -> None:
    engine = build_engine("insightface", standin_models)
    a = analyze_bytes(engine, photos["astronaut.png"]).faces[0].embedding
    b = analyze_bytes(engine, photos["astronaut.png"]).faces[0].embedding
    assert np.array_equal(a, b)
