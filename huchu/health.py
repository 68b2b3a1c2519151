"""Readiness checks shared by ``huchu doctor`` and ``/readyz``."""

from __future__ import annotations

from dataclasses import dataclass

from huchu.config import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _try(name: str, fn: object) -> Check:
    try:
        detail = fn()  # type: ignore[operator]
        return Check(name, True, str(detail))
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
        return Check(name, False, message.splitlines()[0])


def diagnose(settings: Settings) -> list[Check]:
    from huchu import models
    from huchu.engines.factory import resolve_engine_name

    engine_name = resolve_engine_name(settings.engine, settings.models_dir)

    def engine() -> str:
        if settings.inference_url:
            from huchu.inference.remote import HttpInference

            info = HttpInference(settings.inference_url).info
            return f"{info.engine} via {settings.inference_url} ({info.embedding_dim}-d)"
        import numpy as np

        from huchu.engines.factory import build_engine

        e = build_engine(settings.engine, settings.models_dir)
        e.detect(np.zeros((64, 64, 3), np.uint8))
        extra = ""
        if engine_name == "insightface":
            from huchu.engines.insight import choose_providers

            extra = f", providers {','.join(choose_providers())}"
        return f"{e.info.engine} ({e.info.embedding_dim}-d {e.info.metric}{extra})"

    def model_files() -> str:
        statuses = [
            s for s in models.check(settings.models_dir) if s.model.engine in (engine_name, "dlib")
        ]
        bad = [
            s
            for s in statuses
            if s.model.engine == engine_name and (not s.present or s.verified is False)
        ]
        if bad:
            raise RuntimeError("; ".join(f"{s.model.name}: {s.state}" for s in bad))
        return ", ".join(
            f"{s.model.name} {s.state}" for s in statuses if s.model.engine == engine_name
        )

    def vectors() -> str:
        from huchu.stores.factory import build_vector_store

        store = build_vector_store(settings)
        try:
            store.ping()
        finally:
            store.close()
        return (
            f"qdrant server {settings.qdrant_url}"
            if settings.qdrant_url
            else f"qdrant edge {settings.data_dir}/edge"
        )

    def graph() -> str:
        from huchu.stores.factory import check_graph

        return check_graph(settings)

    def objects() -> str:
        from huchu.stores.factory import build_object_store

        build_object_store(settings).ping()
        return (
            f"s3 bucket {settings.s3_bucket}"
            if settings.uses_s3
            else f"files {settings.data_dir}/objects"
        )

    def inference() -> str:
        return f"ray serve at {settings.inference_url}" if settings.inference_url else "in-process"

    return [
        _try("engine", engine),
        _try("models", model_files),
        _try("vectors", vectors),
        _try("graph", graph),
        _try("objects", objects),
        _try("inference", inference),
    ]
