"""One diagnosis for ``huchu doctor`` and ``/readyz``: each part in use, ok or a problem.

``/readyz`` runs the quick checks afresh on every call; ``huchu doctor`` adds the deep
ones (build the engine and run it once, verify the model files).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huchu.config import Settings
from huchu.context import Context
from huchu.errors import Unavailable


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _try(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
        return Check(name, False, str(message).splitlines()[0])


def diagnose(ctx: Context, deep: bool = False) -> list[Check]:
    s = ctx.settings

    def vectors() -> str:
        ctx.vectors.ping()
        return f"qdrant server {s.qdrant_url}" if s.qdrant_url else f"qdrant edge {s.data_dir}/edge"

    def graph() -> str:
        ctx.graph.ping()
        where = f"server {s.graph_url}" if s.graph_url else f"embedded {s.data_dir}/graph"
        return f"falkordb {where}"

    def objects() -> str:
        ctx.objects.ping()
        return f"s3 bucket {s.s3_bucket}" if s.uses_s3 else f"files {s.data_dir}/objects"

    def volume() -> str:
        if not s.uses_data_dir:
            return "not used (every store is a server)"
        return writable(Path(s.data_dir), s)

    checks = [
        _try("inference", ctx.inference.check),
        _try("vectors", vectors),
        _try("graph", graph),
        _try("objects", objects),
        _try("volume", volume),
    ]
    if deep:
        checks = [_try("engine", lambda: engine(ctx)), _try("models", lambda: models(ctx)), *checks]
    return checks


def room(settings: Settings) -> None:
    """Unavailable while the data volume is nearly full (``HUCHU_MIN_FREE_BYTES``)."""
    if not settings.uses_data_dir:
        return  # every store is a server: no volume of ours fills up
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < settings.min_free_bytes:
        raise Unavailable(
            f"the data volume is nearly full ({free // 1_048_576} MB free, "
            f"{settings.min_free_bytes // 1_048_576} MB needed): uploads wait for space"
        )


def writable(folder: Path, settings: Settings | None = None) -> str:
    """The data volume takes a small write now (a full or read-only disk fails here)."""
    if settings is not None:
        room(settings)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".ready-", dir=folder)
    try:
        os.write(fd, b"\0" * 4096)
        os.fsync(fd)
    finally:
        os.close(fd)
        os.unlink(name)
    return f"{folder} writable"


def engine(ctx: Context) -> str:
    import numpy as np

    info = ctx.info
    if ctx.settings.inference_url:
        return f"{info.engine} via {ctx.settings.inference_url} ({info.embedding_dim}-d)"
    from huchu.engines.factory import build_engine

    s = ctx.settings
    built = build_engine(s.engine, s.models_dir, s.bundled_detector)
    built.detect(np.zeros((64, 64, 3), np.uint8))
    extra = ""
    if info.engine == "insightface":
        from huchu.engines.insight import choose_providers

        extra = f", providers {','.join(choose_providers())}"
    return f"{info.engine} ({info.embedding_dim}-d {info.metric}{extra})"


def models(ctx: Context) -> str:
    from huchu import models as manifest

    name = ctx.info.engine
    statuses = [s for s in manifest.check(ctx.settings.models_dir) if s.model.engine == name]
    bad = [s for s in statuses if not s.present or s.verified is False]
    if bad:
        raise RuntimeError("; ".join(f"{s.model.name}: {s.state}" for s in bad))
    return ", ".join(f"{s.model.name} {s.state}" for s in statuses)
