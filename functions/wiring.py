"""Where a ``Context`` is put together for the apps: the stores and inference from settings,
and the use cases that must hear of a delete (the game's and the look-alike graph's).

Wiring lives here, at the edge, so that the core's context imports no use case.
"""

from __future__ import annotations

from huchu.config import Settings
from huchu.context import Context, DeleteWatcher
from huchu.inference.base import Inference
from huchu.stores.graph import GraphStore
from huchu.stores.objects import ObjectStore
from huchu.stores.vectors import VectorStore


def assemble(
    settings: Settings,
    objects: ObjectStore,
    vectors: VectorStore,
    inference: Inference,
    graph: GraphStore | None = None,
) -> Context:
    """A context from its parts, with the game and the look-alike graph wired to deletes;
    without ``graph``, the settings' graph database is reached on first use."""
    from huchu.game.erase import GameEraser  # on first use: a cold start imports no more
    from huchu.photos.family import GraphEraser

    watchers: list[DeleteWatcher] = [GameEraser(), GraphEraser()]
    return Context(settings, objects, vectors, inference, faces_deleted=watchers, graph_store=graph)


def build_context(settings: Settings, workers: int = 1) -> Context:
    """Stores and inference from settings (nothing heavy starts before first use)."""
    from huchu.inference.factory import build_inference
    from huchu.stores.factory import build_object_store, build_vector_store

    settings.check_production()
    return assemble(
        settings,
        build_object_store(settings),
        build_vector_store(settings),
        build_inference(settings, workers=workers),
    )
