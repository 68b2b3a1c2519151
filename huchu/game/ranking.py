"""Ranking: faces by closeness to their cohort's average.

The leaderboard breaks ties by face id. (The event's look-alike graph and its hidden
families live in the graph database: ``huchu.photos.family``.)
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from huchu.context import Context
from huchu.game.average import Accumulator, GameState
from huchu.game.persons import Persons, group, person_mean
from huchu.game.state import current, get_json
from huchu.photos.catalog import visible
from huchu.photos.records import face_model
from huchu.resemblance import closer_than
from huchu.schemas import Cohort, Leaderboard, LeaderboardItem
from huchu.stores.vectors import Point

log = logging.getLogger(__name__)


def ranked(
    ctx: Context, event: str, cohort: str, mean: NDArray[np.float64], limit: int
) -> list[tuple[str, float, dict[str, Any]]]:
    match: dict[str, Any] = {"event": event}
    if cohort != "all":
        match["gender"] = cohort
    # A few extra hits so equal scores at the cut are ordered by id, not by index luck.
    hits = ctx.vectors.search(ctx.faces, [float(v) for v in mean], match, limit + 8)
    rows = sorted(
        ((h.id, round(float(h.score or 0.0), 6), h.payload) for h in visible(hits)),
        key=lambda t: (-t[1], t[0]),
    )
    return rows[:limit]


@dataclass
class People:
    """Every face of an event grouped into persons, and each cohort's persons ranked."""

    average_by: str
    faces: list[Point]
    persons: Persons
    boards: dict[str, list[list[Any]]] = field(default_factory=dict)
    ctx: Context | None = None  # set when the event is too large to group (see PERSONS_MAX)
    event: str = ""

    def cohort_row(self, cohort: str, acc: Accumulator) -> dict[str, Any] | None:
        """The snapshot's row of one cohort; its mean weighs each person once by default."""
        if self.ctx is not None:
            return self._by_face(cohort, acc)
        idx = [
            i
            for i, p in enumerate(self.faces)
            if cohort == "all" or p.payload.get("gender") == cohort
        ]
        if not idx or acc.count == 0:
            return None
        vectors = np.asarray([self.faces[i].vector for i in idx], dtype=np.float64)
        sub = Persons([self.persons.person_of[i] for i in idx])
        if self.average_by == "person":
            mean, n_people = person_mean(vectors, sub)
            mean_age = _person_age([self.faces[i].payload.get("age") for i in idx], sub)
        else:
            mean, n_people = acc.mean, len(sub.groups())
            mean_age = acc.mean_age
        board = _board([self.faces[i] for i in idx], vectors, sub, mean)
        self.boards[cohort] = board
        return {
            "cohort": cohort,
            "count": len(idx),
            "people": n_people,
            "mean_age": None if mean_age is None else round(mean_age, 2),
            "spread": round(acc.spread, 4),
            "closest_face_id": board[0][1] if board else None,
            "mean": [float(v) for v in mean],
        }

    def _by_face(self, cohort: str, acc: Accumulator) -> dict[str, Any] | None:
        """Past PERSONS_MAX faces: the running sums (O(new) per recompute), one face a person."""
        assert self.ctx is not None
        if acc.count == 0:
            return None
        rows = ranked(self.ctx, self.event, cohort, acc.mean, BOARD_MAX)
        self.boards[cohort] = [[fid, fid, score, 1] for fid, score, _ in rows]
        return {
            "cohort": cohort,
            "count": acc.count,
            "people": acc.count,
            "mean_age": None if acc.mean_age is None else round(acc.mean_age, 2),
            "spread": round(acc.spread, 4),
            "closest_face_id": rows[0][0] if rows else None,
            "mean": acc.mean.tolist(),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "average_by": self.average_by,
            "person_of": {
                p.id: pid for p, pid in zip(self.faces, self.persons.person_of, strict=True)
            },
            "boards": self.boards,
        }


# Grouping compares every pair of faces (memory and time grow with the square): past this
# many faces an event is ranked face by face from the running sums, as before persons.
PERSONS_MAX = 5000
BOARD_MAX = 200


def people(ctx: Context, event: str, state: GameState) -> People:
    """Every face of the event with its vector, grouped at the engine's same-person threshold."""
    if len(state.members) > PERSONS_MAX:
        log.warning(
            "%s: %d faces, over %d: persons are not grouped", event, len(state.members), PERSONS_MAX
        )
        return People("face", [], Persons([]), ctx=ctx, event=event)
    points = _members(ctx, event, state)
    vectors = np.asarray([p.vector for p in points], dtype=np.float64)
    grouped = group([p.id for p in points], vectors, ctx.info.thresholds.same_person)
    return People(ctx.settings.average_by, points, grouped)


# What ``people`` needs of a face (its vector, gender and age) never changes once it is
# stored, so each process keeps what it has read, per store, collection and event: a
# recompute or a delete reads only the faces it has not seen. Reading and unpacking every
# face of the event took a tenth of the API's interpreter time under mixed load.
_SEEN: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], dict[str, Point]]] = (
    weakref.WeakKeyDictionary()
)
_SEEN_LOCK = threading.Lock()


def _members(ctx: Context, event: str, state: GameState) -> list[Point]:
    """The state's faces (vector, gender and age), ordered by face id."""
    with _SEEN_LOCK:
        seen = _SEEN.setdefault(ctx.vectors, {}).setdefault((ctx.faces, event), {})
        known = dict(seen)
    missing = [i for i in state.members if i not in known]
    for start in range(0, len(missing), 512):
        for p in ctx.vectors.retrieve(ctx.faces, missing[start : start + 512], vectors=True):
            if p.vector is not None:
                lean = {k: p.payload.get(k) for k in ("gender", "age")}
                known[p.id] = Point(p.id, lean, p.vector)
    with _SEEN_LOCK:
        seen.clear()  # faces that left the state leave the cache
        seen.update((i, known[i]) for i in state.members if i in known)
        return [seen[i] for i in sorted(seen)]


def _person_age(ages: list[Any], persons: Persons) -> float | None:
    means = []
    for idx in persons.groups().values():
        known = [float(ages[i]) for i in idx if ages[i] is not None]
        if known:
            means.append(sum(known) / len(known))
    return sum(means) / len(means) if means else None


def _board(
    faces: list[Point], vectors: NDArray[np.float64], persons: Persons, mean: NDArray[np.float64]
) -> list[list[Any]]:
    """``[person_id, best face id, score, faces]`` per person, best first (ties by face id)."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    scores = unit @ mean
    rows = []
    for pid, idx in persons.groups().items():
        best = min(idx, key=lambda i: (-round(float(scores[i]), 6), faces[i].id))
        rows.append([pid, faces[best].id, round(float(scores[best]), 6), len(idx)])
    return sorted(rows, key=lambda r: (-r[2], r[1]))


def people_of(ctx: Context, snap: dict[str, Any] | None) -> dict[str, Any] | None:
    """A version's persons: ``person_of`` (face id to person id) and each cohort's board."""
    key = None if snap is None else snap.get("images", {}).get("people")
    return None if key is None else get_json(ctx, key)


def board_of(ctx: Context, snap: dict[str, Any] | None, cohort: str) -> list[list[Any]]:
    found = people_of(ctx, snap)
    return [] if found is None else list(found["boards"].get(cohort, []))


def leaderboard(ctx: Context, event: str, cohort: Cohort, limit: int) -> Leaderboard:
    """Each person once, by their best face's similarity to the cohort's average."""
    snap = current(ctx, event)
    version = 0 if snap is None else int(snap["version"])
    items: list[LeaderboardItem] = []
    board = board_of(ctx, snap, cohort)
    rows = [] if snap is None else snap["cohorts"]
    row = next((c for c in rows if c["cohort"] == cohort), None)
    # Past the grouping limit the board keeps only its top rows: the head count stands in.
    everyone = max(len(board), 0 if row is None else int(row.get("people") or 0))
    start = 0
    while len(items) < limit and start < len(board):
        chunk = board[start : start + limit + 8]
        start += len(chunk)
        # Faces deleted since the version are left out at once.
        found = {p.id: p for p in ctx.vectors.retrieve(ctx.faces, [r[1] for r in chunk])}
        for pid, face_id, score, count in chunk:
            if face_id in found and len(items) < limit:
                face = face_model(ctx, found[face_id].payload)
                items.append(
                    LeaderboardItem(
                        rank=len(items) + 1,
                        person_id=pid,
                        face=face,
                        score=score,
                        photos=count,
                        closer_than=closer_than(len(items) + 1, everyone),
                    )
                )
    return Leaderboard(version=version, cohort=cohort, items=items)
