"""Everything a use case needs, built once per process from settings and passed in."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from huchu.config import Settings
from huchu.engines.base import EngineInfo
from huchu.inference.base import Inference
from huchu.stores.graph import GraphStore
from huchu.stores.objects import ObjectStore
from huchu.stores.vectors import VectorStore

PHOTOS = "photos"  # one point per photo; the 1-d vector is a placeholder


class DeleteWatcher(Protocol):
    """Told about a delete: ``before`` while the faces still exist, ``after`` once gone,
    ``later`` once the delete has answered."""

    def before(
        self, ctx: Context, payloads: list[dict[str, Any]], vectors: list[list[float]]
    ) -> bool:
        """Take the faces out; True when something was changed (it cannot be undone)."""
        ...

    def after(self, ctx: Context, events: set[str]) -> None: ...

    def later(self, ctx: Context, events: set[str]) -> None:
        """What may wait until the delete has answered (pictures)."""
        ...


@dataclass
class Context:
    settings: Settings
    objects: ObjectStore
    vectors: VectorStore
    inference: Inference
    faces_deleted: list[DeleteWatcher] = field(default_factory=list)
    # The look-alike graph: built on first use (an embedded FalkorDB starts then), or given.
    graph_store: GraphStore | None = None
    _ready: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _graph_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def graph(self) -> GraphStore:
        if self.graph_store is None:
            with self._graph_lock:
                if self.graph_store is None:
                    from huchu.stores.factory import build_graph_store

                    self.graph_store = build_graph_store(self.settings)
        return self.graph_store

    @property
    def info(self) -> EngineInfo:
        return self.inference.info()

    @property
    def faces(self) -> str:
        """The face collection of the engine in use (one per engine and dimension)."""
        info = self.info
        return self._ensure(info.collection, info.embedding_dim)

    @property
    def photos(self) -> str:
        return self._ensure(PHOTOS, 1)

    def _ensure(self, name: str, dim: int) -> str:
        with self._lock:
            if name not in self._ready:
                self.vectors.ensure(name, dim)
                self._ready.add(name)
        return name

    def url(self, key: str | None) -> str | None:
        return None if key is None else self.objects.url(key)

    def close(self) -> None:
        self.inference.close()
        self.vectors.close()
        with self._graph_lock:
            if self.graph_store is not None:
                self.graph_store.close()  # stops the embedded FalkorDB this process started
                self.graph_store = None
