"""The application builder and its checked-in config, without starting Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_config_is_what_serve_build_writes() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "serve.config", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr


def test_config_runs_the_builder_with_autoscaling_everywhere() -> None:
    config = yaml.safe_load((ROOT / "serve" / "config.yaml").read_text())
    assert config["http_options"] == {"host": "0.0.0.0", "port": 8000}
    (app,) = config["applications"]
    assert app["import_path"] == "serve.app:build_app"
    deployments = {d["name"]: d for d in app["deployments"]}
    assert set(deployments) == {"Ingress", "Detector"}
    for d in deployments.values():
        scaling = d["autoscaling_config"]
        assert scaling["max_replicas"] > scaling["min_replicas"] >= 1
        # Room above the target, or replicas never see enough load to grow.
        assert d["max_ongoing_requests"] > scaling["target_ongoing_requests"]
    detector = deployments["Detector"]
    assert detector["max_ongoing_requests"] >= detector["user_config"]["max_batch_size"]
    assert deployments["Ingress"]["max_ongoing_requests"] >= 16 * 2


def test_builder_takes_typed_args_the_way_ray_passes_them(tmp_path: Path) -> None:
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary
    from ray.serve.deployment import Application

    from serve.app import build_app

    builder: Any = build_app  # Ray types builders as plain functions
    app = call_user_app_builder_with_args_if_necessary(
        builder, {"engine": "dlib", "max_replicas": 3, "detector_gpus": 0.5, "swap": False}
    )
    assert isinstance(app, Application)
    with pytest.raises(Exception, match="max_batch"):
        call_user_app_builder_with_args_if_necessary(builder, {"max_batch": 3})


def test_swapper_joins_only_with_its_model(tmp_path: Path) -> None:
    from serve.app import build_app
    from serve.args import AppArgs

    def names(args: AppArgs) -> set[str]:
        from ray.serve._private.build_app import build_app as built

        return {d.name for d in built(build_app(args), name="huchu").deployments}

    assert names(AppArgs(models_dir=str(tmp_path))) == {"Ingress", "Detector"}
    (tmp_path / "inswapper_128.onnx").write_bytes(b"onnx")
    assert names(AppArgs(models_dir=str(tmp_path))) == {"Ingress", "Detector", "Swapper"}
    assert names(AppArgs(models_dir=str(tmp_path), swap=False)) == {"Ingress", "Detector"}


def test_nothing_is_built_on_import() -> None:
    code = (
        "import serve.app, serve.deployments, serve.api, serve.batching;"
        "import sys; assert 'huchu.engines.bundled' not in sys.modules;"
        "assert not hasattr(serve.app, '__dict__') or 'app' not in vars(serve.app)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
