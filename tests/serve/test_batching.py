"""The deployments' plain functions give the in-process answers, over HTTP too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from huchu.analysis import EngineSpec, analyze_bytes
from huchu.config import Settings
from huchu.engines.base import FaceEngine
from huchu.inference.wire import analysis_from_wire, analysis_to_wire
from serve.api import BATCH_HEADER, create_local_api
from serve.batching import analyze_batch
from tests.servers import serving as in_thread

SPEC = EngineSpec.from_settings(Settings(engine="dlib", models_dir=Path("models")))


def test_batch_isolates_failures(bundled_engine: FaceEngine, photos: dict[str, bytes]) -> None:
    results = analyze_batch(bundled_engine, SPEC, [photos["obama.jpg"], b"junk", photos["t1.jpg"]])
    assert [a.status for a in results] == [200, 415, 200]
    assert {a.batch_size for a in results} == {3}
    assert results[1].body["error"]["code"] == "unsupported_media_type"
    assert len(analysis_from_wire(results[2].body).faces) >= 6


@pytest.fixture(scope="module")
def inference_server(bundled_engine: FaceEngine) -> Iterator[str]:
    with in_thread(create_local_api(bundled_engine, SPEC)) as url:
        yield url


def test_http_answers_are_the_in_process_ones(
    inference_server: str, bundled_engine: FaceEngine, photos: dict[str, bytes]
) -> None:
    info = httpx.get(f"{inference_server}/info").json()
    assert info == bundled_engine.info.as_dict() | {"swap": False}
    r = httpx.post(f"{inference_server}/analyze", content=photos["t1.jpg"], timeout=60)
    assert r.status_code == 200 and r.headers[BATCH_HEADER] == "1"
    here = analysis_to_wire(analyze_bytes(bundled_engine, photos["t1.jpg"]))
    assert analysis_to_wire(analysis_from_wire(r.json())) == here
    junk = httpx.post(f"{inference_server}/analyze", content=b"junk", timeout=60)
    assert junk.status_code == 415
    assert junk.json()["error"]["code"] == "unsupported_media_type"
    no_swap = httpx.post(f"{inference_server}/swap", json={}, timeout=60)
    assert no_swap.status_code == 404 and no_swap.json()["error"]["code"] == "not_found"


def test_swap_over_http_is_identical(tmp_path: Path, photos: dict[str, bytes]) -> None:
    from huchu.engines.insight import InsightFaceEngine
    from huchu.game.render.swap import LocalSwapper, RemoteSwapper
    from huchu.imaging.decode import decode_image
    from tests import standins

    standins.buffalo_l(tmp_path)
    standins.inswapper(tmp_path / "inswapper_128.onnx")
    engine = InsightFaceEngine(tmp_path)
    local = LocalSwapper(tmp_path)
    spec = EngineSpec.from_settings(Settings(engine="insightface", models_dir=tmp_path))
    with in_thread(create_local_api(engine, spec, swapper=local)) as url:
        rgb = decode_image(photos["astronaut.png"]).rgb
        face = engine.detect(rgb)[0]
        kps = np.asarray(face.kps, np.float32)
        mean = np.random.default_rng(3).standard_normal(512)
        here = local.swap(rgb, kps, mean)
        there = RemoteSwapper(url).swap(rgb, kps, mean)
        assert np.array_equal(here, there)
        assert np.abs(here.astype(int) - rgb.astype(int)).mean() > 0.1
        info: dict[str, Any] = httpx.get(f"{url}/info").json()
        assert info["swap"] is True
        bad = httpx.post(f"{url}/swap", json={"image": "x"}, timeout=60)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
        # The game picks the remote swapper when inference is remote and can swap.
        from huchu.context import Context
        from huchu.game.render.swap import swap_renderer
        from huchu.inference.remote import HttpInference

        settings = Settings().model_copy(update={"inference_url": url})
        # No stores: choosing a swapper reads only settings and inference.
        remote = HttpInference(url, max_pixels=settings.max_image_pixels)
        ctx = Context(settings, None, None, remote)  # type: ignore[arg-type]
        renderer = swap_renderer(ctx)
        assert renderer is not None and isinstance(renderer.swapper, RemoteSwapper)
