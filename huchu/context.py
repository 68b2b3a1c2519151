"""Everything a use case needs, built once per process from settings and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

from huchu.config import Settings
from huchu.inference.base import Inference
from huchu.stores.objects import ObjectStore
from huchu.stores.vectors import VectorStore

PHOTOS = "photos"  # one point per photo; the 1-d vector is a placeholder


@dataclass
class Context:
    settings: Settings
    objects: ObjectStore
    vectors: VectorStore
    inference: Inference
    _ready: set[str] = field(default_factory=set)

    @property
    def faces(self) -> str:
        """The face collection of the engine in use (one per engine and dimension)."""
        name = self.inference.info.collection
        if name not in self._ready:
            self.vectors.ensure(name, self.inference.info.embedding_dim)
            self._ready.add(name)
        return name

    @property
    def photos(self) -> str:
        if PHOTOS not in self._ready:
            self.vectors.ensure(PHOTOS, 1)
            self._ready.add(PHOTOS)
        return PHOTOS

    def url(self, key: str | None) -> str | None:
        return None if key is None else self.objects.url(key)


def build_context(settings: Settings, workers: int = 1) -> Context:
    from huchu.inference.factory import build_inference
    from huchu.stores.factory import build_object_store, build_vector_store

    settings.check_production()
    return Context(
        settings=settings,
        objects=build_object_store(settings),
        vectors=build_vector_store(settings),
        inference=build_inference(settings, workers=workers),
    )
