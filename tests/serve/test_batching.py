"""The deployments' plain functions give the in-process answers, over HTTP too."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from huchu.analysis import EngineSpec
from huchu.config import Settings
from huchu.engines.base import FaceEngine
from huchu.errors import UnsupportedMedia
from huchu.inference.local import LocalInference
from huchu.inference.remote import HttpInference
from huchu.inference.wire import analysis_from_wire, analysis_to_wire
from serve.api import make_local_api
from serve.batching import analyze_batch

SPEC = EngineSpec.from_settings(
    Settings(engine="dlib", models_dir=__import__("pathlib")).Path("models")
)


def test_batch_isolates_failures(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    results = analyze_batch(bundled_engine, SPEC, [photos["obama.jpg"], b"junk", photos["t1.jpg"]])
    assert [s for s, _ in results] == [200, 415, 200]
    assert results[1][1]["error"]["code"] == "unsupported_media_type"
    assert len(analysis_from_wire(results[2][1]).faces) >= 6


@pytest.fixture(scope="module")
def inference_server(bundled_engine: FaceEngine) -> Iterator[str]:
    config = uvicorn.Config(
        make_local_api(bundled_engine, SPEC), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def test_http_inference_is_identical(
    inference_server: str, bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    local = LocalInference(SPEC, engine=bundled_engine)
    remote = HttpInference(inference_server)
    assert remote.info == local.info
    a = asyncio.run(local.analyze(photos["t1.jpg"]))
    b = asyncio.run(remote.analyze(photos["t1.jpg"]))
    assert analysis_to_wire(a) == analysis_to_wire(b)
    with pytest.raises(UnsupportedMedia):
        asyncio.run(remote.analyze(b"junk"))
    local.close()


def test_swap_over_http_is_identical(tmp_path: Path, photos: dict[str, bytes]) -> None:
    import numpy as np

    from huchu.config import Settings
    from huchu.context import Context
    from huchu.engines.insight import InsightFaceEngine
    from huchu.game.render.swap import LocalSwapper, RemoteSwapper, swap_renderer
    from huchu.imaging.decode import decode_image
    from tests import standins

    standins.buffalo_l(tmp_path)
    standins.inswapper(tmp_path / "inswapper_128.onnx")
    engine = InsightFaceEngine(tmp_path)
    local = LocalSwapper(tmp_path)
    spec = EngineSpec.from_settings(Settings(engine="insightface", models_dir=tmp_path))
    server = uvicorn.Server(
        uvicorn.Config(
            make_local_api(engine, spec, swapper=local),
            host="127.0.0.1",
            port=0,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        rgb = decode_image(photos["astronaut.png"]).rgb
        face = engine.detect(rgb)[0]
        kps = np.asarray(face.kps, np.float32)
        mean = np.random.default_rng(3).standard_normal(512)
        here = local.swap(rgb, kps, mean)
        there = RemoteSwapper(url).swap(rgb, kps, mean)
        assert np.array_equal(here, there)
        assert np.abs(here.astype(int) - rgb.astype(int)).mean() > 0.1
        remote_inference = HttpInference(url)
        ctx = Context(
            Settings().model_copy(update={"inference_url": url}), None, None, remote_inference
        )  # type: ignore[arg-type]
        renderer = swap_renderer(ctx)
        assert renderer is not None and isinstance(renderer.swapper, RemoteSwapper)
    finally:
        server.should_exit = True
        thread.join(5)
