"""Where one face stands in its event: its person's rank by closeness to the cohort's average.

A face is ranked against the current version at once, before a recompute has counted it
(``provisional``): its score against the cohort's mean, among the version's persons, as
the person it belongs to (the nearest counted face at the engine's same-person threshold)
or as a newcomer. The next recompute counts it; its rank then moves only as far as the
average moved (the tests hold it within 2 ranks).

The cohort is everyone's, as the leaderboard's default: a face's rank and the board agree.
A percentage ("closer than 95% of the others") is given only from
``huchu.resemblance.PERCENT_FROM`` people on: with fewer, a share of a handful reads as a
verdict ("closer than 0%") where a rank ("#3 of 4") reads as what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from huchu.context import Context
from huchu.game.ranking import people_of
from huchu.game.state import current
from huchu.photos import catalog
from huchu.resemblance import PERCENT_FROM, closer_than
from huchu.schemas import FaceDetail, FaceStanding, PhotoPage, Standing
from huchu.stores.vectors import Point

LOOKALIKES = 3
# Counted faces looked at to find a new face's person.
PERSON_CANDIDATES = 5


@dataclass(frozen=True)
class Board:
    """One version's cohorts, their means and persons: read once, used for many faces."""

    event: str
    version: int
    rows: dict[str, dict[str, Any]]
    person_of: dict[str, str]
    boards: dict[str, list[list[Any]]]

    @classmethod
    def of(cls, ctx: Context, event: str) -> Board | None:
        snap = current(ctx, event)
        if snap is None or not snap.get("cohorts"):
            return None
        found = people_of(ctx, snap)
        if found is None:  # a version a delete redacted: no board until the next one
            return None
        return cls(
            event=event,
            version=int(snap["version"]),
            rows={c["cohort"]: c for c in snap["cohorts"]},
            person_of=dict(found.get("person_of", {})),
            boards={k: list(v) for k, v in found.get("boards", {}).items()},
        )

    def cohort_of(self, gender: str | None) -> str | None:
        """Everyone's: the cohort the leaderboard opens on, so a face's rank and the board
        never disagree (the gender cohorts have their own boards and winners)."""
        del gender
        return "all" if "all" in self.rows else None

    def place(
        self, ctx: Context, face_id: str, vector: list[float], gender: str | None
    ) -> FaceStanding | None:
        """The face's standing in its cohort (``None``: no cohort to stand in yet)."""
        cohort = self.cohort_of(gender)
        if cohort is None:
            return None
        board = self.boards.get(cohort, [])
        row = self.rows[cohort]
        everyone = max(len(board), int(row.get("people") or 0))
        person = self.person_of.get(face_id)
        # Past the grouping limit the board is face by face (no persons): the face itself.
        mine = next(
            (i for i, r in enumerate(board) if (r[0] == person if person else r[1] == face_id)),
            None,
        )
        if mine is not None:
            return _standing(cohort, mine + 1, everyone, provisional=False)
        v = np.asarray(vector, dtype=np.float64)
        score = float(v @ np.asarray(row["mean"], dtype=np.float64) / (np.linalg.norm(v) or 1.0))
        person = self._person(ctx, face_id, vector)
        own = next((r for r in board if r[0] == person), None) if person else None
        best = max(score, float(own[2])) if own is not None else score
        ahead = sum(1 for r in board if r[0] != person and float(r[2]) > round(best, 6))
        return _standing(cohort, ahead + 1, everyone + (own is None), provisional=True)

    def _person(self, ctx: Context, face_id: str, vector: list[float]) -> str | None:
        """The counted person a new face belongs to: its nearest counted face, when that is
        at least the engine's same-person threshold away."""
        hits = ctx.vectors.search(
            ctx.faces,
            vector,
            {"event": self.event},
            PERSON_CANDIDATES + 1,
            ctx.info.thresholds.same_person,
        )
        for h in catalog.visible(hits):
            if h.id != face_id and h.id in self.person_of:
                return self.person_of[h.id]
        return None


def _standing(cohort: str, rank: int, of: int, provisional: bool) -> FaceStanding:
    rank = max(1, min(rank, of))
    share = (of - rank) / (of - 1) if of >= PERCENT_FROM else None
    return FaceStanding.model_validate(
        {
            "cohort": cohort,
            "rank": rank,
            "of": of,
            "closer_than": None if share is None else round(share, 2),
            "provisional": provisional,
        }
    )


def provisional_standings(ctx: Context, faces: list[Point]) -> dict[str, FaceStanding]:
    """Freshly stored faces' standings (an upload's answer), against the current version."""
    if not faces:
        return {}
    board = Board.of(ctx, str(faces[0].payload["event"]))
    if board is None:
        return {}
    out = {}
    for p in faces:
        if p.vector is not None:
            found = board.place(ctx, p.id, p.vector, p.payload.get("gender"))
            if found is not None:
                out[p.id] = found
    return out


def face_standing(ctx: Context, point: Point) -> FaceStanding | None:
    """A stored face's standing (``point`` read with its vector)."""
    board = Board.of(ctx, str(point.payload["event"]))
    if board is None or point.vector is None:
        return None
    return board.place(ctx, point.id, point.vector, point.payload.get("gender"))


def standing(ctx: Context, face_id: str, lookalikes: int = LOOKALIKES) -> Standing:
    """A face's standing with its closeness to the average and its best look-alikes."""
    point = catalog.face_point(ctx, face_id, vectors=True)
    event = point.payload["event"]
    board = Board.of(ctx, event)
    similar = catalog.similar(ctx, face_id, lookalikes, None).items if lookalikes else []
    place = None
    if board is not None and point.vector is not None:
        place = board.place(ctx, face_id, point.vector, point.payload.get("gender"))
    if board is None or place is None or point.vector is None:
        return Standing(
            face_id=face_id,
            event=event,
            cohort="all",
            version=0 if board is None else board.version,
            score=None,
            rank=None,
            people=0,
            person_id=None,
            lookalikes=similar,
        )
    v = np.asarray(point.vector, dtype=np.float64)
    mean = np.asarray(board.rows[place.cohort]["mean"], dtype=np.float64)
    return Standing(
        face_id=face_id,
        event=event,
        cohort=place.cohort,
        version=board.version,
        score=float(v @ mean / (np.linalg.norm(v) or 1.0)),
        rank=place.rank,
        people=place.of,
        person_id=board.person_of.get(face_id),
        lookalikes=similar,
        closer_than=None if place.closer_than is None else closer_than(place.rank, place.of),
        provisional=place.provisional,
    )


def face_detail(ctx: Context, face_id: str) -> FaceDetail:
    """``GET /api/faces/{id}``: the face, its photo and its standing."""
    point = catalog.face_point(ctx, face_id, vectors=True)
    found = catalog.get_face(ctx, face_id)
    return found.model_copy(update={"standing": face_standing(ctx, point)})


def with_standings(ctx: Context, event: str, page: PhotoPage) -> PhotoPage:
    """A page of photos whose counted faces carry their standings ("my photos")."""
    board = Board.of(ctx, event)
    if board is None:
        return page
    ids = [f.face_id for p in page.items for f in p.faces if f.face_id]
    points = {p.id: p for p in ctx.vectors.retrieve(ctx.faces, ids, vectors=True)}
    items = []
    for photo in page.items:
        faces = []
        for f in photo.faces:
            point = points.get(f.face_id or "")
            if point is not None and point.vector is not None:
                place = board.place(ctx, point.id, point.vector, point.payload.get("gender"))
                f = f.model_copy(update={"standing": place})
            faces.append(f)
        items.append(photo.model_copy(update={"faces": faces}))
    return page.model_copy(update={"items": items})
