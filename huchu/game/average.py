"""Per-cohort accumulators: sums of unit embeddings, so adding or removing a face is O(1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

COHORTS = ("female", "male", "all")


def cohorts_of(gender: str | None) -> tuple[str, ...]:
    return ("all", gender) if gender in ("female", "male") else ("all",)


@dataclass
class Accumulator:
    """Float64 sums; the mean direction, count, mean age and spread follow from them."""

    dim: int
    total: np.ndarray = field(default_factory=lambda: np.zeros(0))
    count: int = 0
    age_sum: float = 0.0
    age_count: int = 0

    def __post_init__(self) -> None:
        if self.total.size == 0:
            self.total = np.zeros(self.dim, dtype=np.float64)

    def add(self, vector: np.ndarray, age: float | None, sign: int = 1) -> None:
        v = np.asarray(vector, dtype=np.float64)
        self.total += sign * v / (np.linalg.norm(v) or 1.0)
        self.count += sign
        if age is not None:
            self.age_sum += sign * float(age)
            self.age_count += sign

    @property
    def mean(self) -> np.ndarray:
        n = float(np.linalg.norm(self.total))
        return self.total / n if n > 0 else self.total

    @property
    def spread(self) -> float:
        """|sum of unit vectors| / count: 1 when all agree, near 0 when they scatter."""
        return float(np.linalg.norm(self.total) / self.count) if self.count else 0.0

    @property
    def mean_age(self) -> float | None:
        return self.age_sum / self.age_count if self.age_count else None

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total.tolist(),
            "count": self.count,
            "age_sum": self.age_sum,
            "age_count": self.age_count,
        }

    @classmethod
    def from_json(cls, dim: int, d: dict[str, Any]) -> Accumulator:
        return cls(
            dim,
            np.asarray(d["total"], dtype=np.float64),
            int(d["count"]),
            float(d["age_sum"]),
            int(d["age_count"]),
        )


@dataclass
class GameState:
    """What a recompute carries forward: accumulators, members and the watermark.

    ``members`` maps each folded face to the version it first counted in, so a delete
    knows which versions it must redact; ``unredacted`` keeps that version for a face
    taken out of the sums until its versions are redacted (a redaction that failed midway
    stays owed); ``deletions`` counts deletes, so a version rendered while a face was
    being deleted is dropped instead of published.
    """

    dim: int
    cohorts: dict[str, Accumulator]
    members: dict[str, int] = field(default_factory=dict)
    watermark: float = 0.0
    version: int = 0
    dirty: bool = False  # something was subtracted since the last version
    deletions: int = 0
    drawn: bool = True  # the newest version has its pictures (a delete publishes numbers first)
    unredacted: dict[str, int] = field(default_factory=dict)
    # Faces whose pictures went into the morph sums with per-pixel weights (the others,
    # summed before the weights were kept, are taken out as they went in).
    weighted: set[str] = field(default_factory=set)
    # A face's weight in the pictures where it is not 1: one over its person's faces
    # (``average_by=person``), so each person weighs one in the picture as in the mean.
    picture_weight: dict[str, float] = field(default_factory=dict)

    @classmethod
    def empty(cls, dim: int) -> GameState:
        return cls(dim, {c: Accumulator(dim) for c in COHORTS})

    def add(self, face_id: str, vector: np.ndarray, gender: str | None, age: float | None) -> None:
        if face_id in self.members:
            return
        self.members[face_id] = self.version + 1
        for c in cohorts_of(gender):
            self.cohorts[c].add(vector, age)

    def remove(
        self, face_id: str, vector: np.ndarray, gender: str | None, age: float | None
    ) -> None:
        if face_id not in self.members:
            return
        del self.members[face_id]
        for c in cohorts_of(gender):
            self.cohorts[c].add(vector, age, sign=-1)

    def to_json(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "cohorts": {c: a.to_json() for c, a in self.cohorts.items()},
            "members": dict(sorted(self.members.items())),
            "watermark": self.watermark,
            "version": self.version,
            "dirty": self.dirty,
            "deletions": self.deletions,
            "drawn": self.drawn,
            "unredacted": dict(sorted(self.unredacted.items())),
            "weighted": sorted(self.weighted),
            "picture_weight": dict(sorted(self.picture_weight.items())),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GameState:
        dim = int(d["dim"])
        members = d["members"]
        if isinstance(members, list):  # written before versions were tracked per face
            members = dict.fromkeys(members, 1)
        return cls(
            dim,
            {c: Accumulator.from_json(dim, a) for c, a in d["cohorts"].items()},
            {str(k): int(v) for k, v in members.items()},
            float(d["watermark"]),
            int(d["version"]),
            bool(d.get("dirty", False)),
            int(d.get("deletions", 0)),
            bool(d.get("drawn", True)),
            {str(k): int(v) for k, v in d.get("unredacted", {}).items()},
            {str(k) for k in d.get("weighted", [])},
            {str(k): float(v) for k, v in d.get("picture_weight", {}).items()},
        )
