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


def test_the_detector_scales_only_once_a_batch_can_fill() -> None:
    """At a target of 2 with batches of 8, replicas were added long before a batch could
    fill: four replicas ran 81% of the requests in batches of one."""
    config = yaml.safe_load((ROOT / "serve" / "config.yaml").read_text())
    (detector,) = [d for d in config["applications"][0]["deployments"] if d["name"] == "Detector"]
    batch = detector["user_config"]["max_batch_size"]
    assert detector["autoscaling_config"]["target_ongoing_requests"] >= batch
    assert detector["max_ongoing_requests"] >= 2 * batch


def test_args_refuse_targets_that_keep_batches_from_forming() -> None:
    from serve.args import AppArgs

    assert AppArgs().detector_target == AppArgs().max_batch_size
    assert AppArgs(max_batch_size=4, max_ongoing_requests=8).detector_target == 4
    with pytest.raises(ValueError, match="below max_batch_size"):
        AppArgs(target_ongoing_requests=2)
    with pytest.raises(ValueError, match="two batches"):
        AppArgs(max_batch_size=16)


def test_prescale_raises_the_detectors_floor_and_nothing_else(tmp_path: Path) -> None:
    from serve.prescale import prescaled

    config = yaml.safe_load((ROOT / "serve" / "config.yaml").read_text())
    out = prescaled(config, 6)
    deployments = {d["name"]: d for d in out["applications"][0]["deployments"]}
    assert deployments["Detector"]["autoscaling_config"]["min_replicas"] == 6
    assert deployments["Detector"]["autoscaling_config"]["max_replicas"] == 6
    # Everything else as checked in (the config itself is left alone).
    deployments["Detector"]["autoscaling_config"].update(min_replicas=1, max_replicas=4)
    assert out == config
    assert (
        prescaled(config, 2)["applications"][0]["deployments"][0]["autoscaling_config"][
            "max_replicas"
        ]
        == 4
    )
    with pytest.raises(ValueError, match="at least one"):
        prescaled(config, 0)

    cli = subprocess.run(
        [sys.executable, "-m", "serve.prescale", "3"], cwd=ROOT, capture_output=True, text=True
    )
    assert cli.returncode == 0, cli.stderr
    assert yaml.safe_load(cli.stdout) == prescaled(config, 3)
    bad = subprocess.run(
        [sys.executable, "-m", "serve.prescale", "many"], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "usage" in bad.stderr and "Traceback" not in bad.stderr


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
