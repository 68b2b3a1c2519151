"""The ``huchu`` command line: analyze, models, doctor and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli.main import main
from tests.commandline import huchu


def test_analyze_json_lines(tmp_path: Path, photos: dict[str, bytes]) -> None:
    for name in ("t1.jpg", "chelsea.png"):
        (tmp_path / name).write_bytes(photos[name])
    out = huchu(
        "analyze", str(tmp_path / "t1.jpg"), str(tmp_path / "chelsea.png"), "--json", "--embedding"
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["t1.jpg", "chelsea.png"]
    faces = [f for f in lines[0]["faces"] if f["det_score"] >= 0.75]
    assert len(faces) == 6 and lines[0]["engine"] == "dlib"
    f = faces[0]
    assert set(f) >= {"bbox", "det_score", "gender", "age", "landmarks", "embedding"}
    assert len(f["landmarks"]) == 68
    assert np.linalg.norm(f["embedding"]) == pytest.approx(1.0, abs=1e-5)
    assert [x for x in lines[1]["faces"] if x["det_score"] >= 0.75] == []


def test_analyze_without_embedding_flag(tmp_path: Path, photos: dict[str, bytes]) -> None:
    (tmp_path / "a.png").write_bytes(photos["Tom_Hanks_54745.png"])
    assert main(["analyze", str(tmp_path / "a.png"), "--json"]) == 0


def test_bad_input_is_one_line_and_nonzero(tmp_path: Path) -> None:
    out = huchu("analyze", str(tmp_path / "missing.jpg"), "--json")
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "Traceback" not in out.stderr
    (tmp_path / "text.jpg").write_text("not an image")
    out = huchu("analyze", str(tmp_path / "text.jpg"), "--json")
    assert out.returncode != 0 and "unsupported_media_type" in out.stdout
    assert "Traceback" not in out.stderr
    out = huchu("analyze", "x.jpg", env={"HUCHU_MIN_DET_SCORE": "7"})
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_models_list_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "buffalo_l/det_10g" in listing and "non-commercial" in listing
    assert main(["models", "check"]) == 0
    check = capsys.readouterr().out
    assert "dlib-resnet-v1" in check and "verified" in check


def test_doctor_reports_each_part(tmp_path: Path) -> None:
    out = huchu("doctor", "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 0, out.stdout + out.stderr
    for part in ("engine", "models", "vectors", "objects", "inference"):
        assert part in out.stdout
    assert "problem" not in out.stdout


def test_settings_refuse_placeholder_and_incomplete_production(tmp_path: Path) -> None:
    out = huchu("doctor", env={"HUCHU_ADMIN_TOKEN": "changeme"})
    assert out.returncode == 2 and "placeholder" in out.stderr
    out = huchu("recompute", "--data-dir", str(tmp_path), env={"HUCHU_PRODUCTION": "true"})
    assert (
        out.returncode == 2 and "HUCHU_URL_SECRET" in out.stderr and "Traceback" not in out.stderr
    )
    out = huchu("recompute", "--event", "Bad Event!", "--data-dir", str(tmp_path))
    assert out.returncode == 2 and "event" in out.stderr
