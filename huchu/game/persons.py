"""One person, one entry: faces grouped into persons by average linkage.

A person is a group of faces whose average similarity to one another is at least the
engine's ``same_person`` threshold. Single links would let one close pair of strangers
chain two people together; average links keep them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Persons:
    """``person_of[i]`` is the person id of face ``i`` (the smallest face id of its group)."""

    person_of: list[str]

    def groups(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, pid in enumerate(self.person_of):
            out.setdefault(pid, []).append(i)
        return out


def group(ids: list[str], vectors: NDArray[np.float64], threshold: float) -> Persons:
    """Average-linkage groups of vectors, cut where mean similarity drops below ``threshold``."""
    n = len(ids)
    if n == 0:
        return Persons([])
    if n == 1:
        return Persons([ids[0]])
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    # Cosine distance = 1 - similarity, so "mean distance <= 1 - t" is "mean similarity >= t".
    distances = np.clip(pdist(unit, metric="cosine"), 0.0, 2.0)
    tree = linkage(distances, method="average")
    labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")
    first: dict[int, str] = {}
    for i in sorted(range(n), key=lambda i: ids[i]):
        first.setdefault(int(labels[i]), ids[i])
    return Persons([first[int(labels[i])] for i in range(n)])


def person_mean(vectors: NDArray[np.float64], persons: Persons) -> tuple[NDArray[np.float64], int]:
    """The mean of each person's mean unit vector (normalised), and the number of persons."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    means = [unit[idx].mean(axis=0) for idx in persons.groups().values()]
    if not means:
        return np.zeros(vectors.shape[1] if vectors.ndim == 2 else 0), 0
    total = np.mean(means, axis=0)
    norm = float(np.linalg.norm(total))
    return (total / norm if norm > 0 else total), len(means)
