"""A data dir left by Qdrant local mode moves into Qdrant Edge on first start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from huchu.config import Settings
from huchu.errors import Unavailable
from huchu.stores.edge import EdgeStore
from huchu.stores.factory import build_vector_store
from huchu.stores.ids import new_id
from huchu.stores.vectors import Point, QdrantStore


def _old_data_dir(tmp_path: Path, n: int) -> list[Point]:
    old = QdrantStore(None, tmp_path / "qdrant")
    old.ensure("faces_dlib_128", 128)
    old.ensure("photos", 1)
    rng = np.random.default_rng(3)
    pts = []
    for i in range(n):
        v = rng.standard_normal(128)
        v /= np.linalg.norm(v)
        pts.append(
            Point(
                new_id(), {"event": "default", "gender": "male", "index": i}, [float(x) for x in v]
            )
        )
    old.upsert("faces_dlib_128", pts)
    old.upsert("photos", [Point(new_id(), {"event": "default", "content_hash": "abc"}, [1.0])])
    old.close()
    return pts


def test_local_mode_data_is_migrated_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pts = _old_data_dir(tmp_path, 1100)
    store = build_vector_store(Settings(data_dir=tmp_path))
    try:
        assert isinstance(store, EdgeStore)
        assert not (tmp_path / "qdrant").exists()  # no stale copy of deleted faces left
        assert store.count("faces_dlib_128", {}) == 1100
        assert store.count("photos", {"content_hash": "abc"}) == 1
        got = store.retrieve("faces_dlib_128", [pts[7].id], vectors=True)[0]
        assert got.payload == pts[7].payload
        assert np.allclose(got.vector or [], pts[7].vector or [], atol=1e-5)
        hit = store.search("faces_dlib_128", pts[9].vector or [], {"event": "default"}, 1)
        assert hit[0].id == pts[9].id
    finally:
        store.close()
    assert "migrating faces_dlib_128" in capsys.readouterr().err  # the progress bar
    again = build_vector_store(Settings(data_dir=tmp_path))
    try:
        assert again.count("faces_dlib_128", {}) == 1100
    finally:
        again.close()


def test_unreadable_old_folder_is_refused_clearly(tmp_path: Path) -> None:
    _old_data_dir(tmp_path, 3)
    holder = QdrantStore(None, tmp_path / "qdrant")  # another client holds the folder
    try:
        with pytest.raises(Unavailable, match="Qdrant local mode"):
            build_vector_store(Settings(data_dir=tmp_path))
        assert (tmp_path / "qdrant").exists()
    finally:
        holder.close()
