"""Real parts for the functions: Qdrant local mode, a real S3 API server, the engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.embedded import create_embedded_app
from functions.wiring import assemble
from huchu.analysis import EngineSpec
from huchu.config import Settings
from huchu.context import Context
from huchu.engines.base import FaceEngine
from huchu.inference.local import LocalInference
from huchu.stores.factory import build_object_store, s3_client
from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.objects import S3ObjectStore
from huchu.stores.vectors import QdrantStore
from tests.conftest import graph_store
from tests.servers import free_port

ADMIN = "test-admin-token-5f1c"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def inference(bundled_engine: FaceEngine) -> Iterator[LocalInference]:
    inf = LocalInference(
        EngineSpec.from_settings(Settings(engine="dlib", models_dir=Path("models"))),
        engine=bundled_engine,
    )
    yield inf
    inf.close()


def make_settings(tmp_path: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "admin_token": ADMIN,
        "rate_limit_per_minute": 0,
        "recompute_seconds": 0,
        "cors_origins": "http://site.example",
    }
    base.update(kw)
    return Settings().model_copy(update=base)


@pytest.fixture(params=["local", "s3"])
def ctx(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    inference: LocalInference,
    s3_endpoint: str,
    graph_server: EmbeddedFalkorDB,
) -> Iterator[Context]:
    if request.param == "s3":
        bucket = f"huchu-{tmp_path.name.lower().replace('_', '-')[-40:]}"
        settings = make_settings(
            tmp_path,
            s3_endpoint=s3_endpoint,
            s3_bucket=bucket,
            s3_access_key="test",
            s3_secret_key="test",
            s3_region="us-east-1",
        )
        s3_client(settings).create_bucket(Bucket=bucket)
        objects = build_object_store(settings)
        assert isinstance(objects, S3ObjectStore)
    else:
        settings = make_settings(tmp_path)
        objects = build_object_store(settings)
    vectors = QdrantStore(None, settings.data_dir / "qdrant")
    graph = graph_store(graph_server)
    context = assemble(settings, objects, vectors, inference, graph)
    yield context
    vectors.close()
    graph.close()


@pytest.fixture
def client(ctx: Context) -> Iterator[TestClient]:
    app = create_embedded_app(ctx, scheduler=False)
    with TestClient(app) as c:
        yield c


def counts(ctx: Context) -> tuple[int, int, int]:
    """(objects, face vectors, photo records): what a failed request must not change."""
    return (
        len(
            [
                k
                for k in ctx.objects.list("")
                if "/game/" not in k
                and not k.endswith("/event.json")
                and not k.startswith("staging/processed/")
            ]
        ),  # game state, event set-ups and the marks of processed direct uploads
        ctx.vectors.count(ctx.faces, {}),
        ctx.vectors.count(ctx.photos, {}),
    )


def upload(client: TestClient, data: bytes, name: str = "photo.jpg", **form: str) -> Any:
    fields = {"consent": "true", **form}
    headers = {}
    if "owner" in fields:
        headers["X-Huchu-Owner"] = fields.pop("owner")
    return client.post(
        "/api/photos", files={"file": (name, data, "image/jpeg")}, data=fields, headers=headers
    )
