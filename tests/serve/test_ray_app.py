"""The Ray Serve application for real: local Ray, ``Ingress.bind(Detector.bind(spec))``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from huchu.analysis import EngineSpec
from huchu.config import Settings
from huchu.engines.base import FaceEngine
from huchu.errors import UnsupportedMedia
from huchu.inference.local import LocalInference
from huchu.inference.remote import HttpInference
from huchu.inference.wire import analysis_to_wire

ray = pytest.importorskip("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_url(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    from ray import serve

    monkeypatch_module.setenv("HUCHU_ENGINE", "dlib")
    monkeypatch_module.setenv("HUCHU_SERVE_MAX_REPLICAS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    port = _free_port()
    try:
        import serve.app as ray_app

        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(ray_app.build(), name="huchu", route_prefix="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_ray_serve_answers_like_in_process(
    ray_url: str, bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    local = LocalInference(
        EngineSpec.from_settings(Settings(engine="dlib", models_dir=Path("models"))),
        engine=bundled_engine,
    )
    remote = HttpInference(ray_url)
    assert remote.info == local.info
    import httpx

    assert httpx.get(f"{ray_url}/info").json()["swap"] is False  # no inswapper model here

    async def both(data: bytes) -> tuple[dict, dict]:  # type: ignore[type-arg]
        # Concurrent requests reach one replica together: @serve.batch groups them.
        remote_results = await asyncio.gather(*(remote.analyze(data) for _ in range(3)))
        first = analysis_to_wire(remote_results[0])
        assert all(analysis_to_wire(r) == first for r in remote_results)
        return analysis_to_wire(await local.analyze(data)), first

    for name in ("t1.jpg", "obama.jpg"):
        mine, theirs = asyncio.run(both(photos[name]))
        assert mine == theirs, name
    with pytest.raises(UnsupportedMedia):
        asyncio.run(remote.analyze(b"not an image"))
    local.close()
