"""Where one face stands in its event: closeness to the current average, rank, look-alikes."""

from __future__ import annotations

import numpy as np

from huchu.context import Context
from huchu.game.ranking import people_of
from huchu.game.state import current
from huchu.photos import catalog
from huchu.resemblance import closer_than
from huchu.schemas import Standing

COHORT = "all"
LOOKALIKES = 3


def standing(ctx: Context, face_id: str, lookalikes: int = LOOKALIKES) -> Standing:
    """A face's closeness to the average and its person's rank (``None`` before a version)."""
    point = catalog.face_point(ctx, face_id, vectors=True)
    event = point.payload["event"]
    snap = current(ctx, event)
    similar = catalog.similar(ctx, face_id, lookalikes, None).items if lookalikes else []
    row = (
        None if snap is None else next((c for c in snap["cohorts"] if c["cohort"] == COHORT), None)
    )
    if snap is None or row is None or point.vector is None:
        return Standing(
            face_id=face_id,
            event=event,
            cohort=COHORT,
            version=0 if snap is None else int(snap["version"]),
            score=None,
            rank=None,
            people=0,
            person_id=None,
            lookalikes=similar,
        )
    vector = np.asarray(point.vector, dtype=np.float64)
    score = float(vector @ np.asarray(row["mean"]) / (np.linalg.norm(vector) or 1.0))
    found = people_of(ctx, snap)
    board = [] if found is None else list(found["boards"].get(COHORT, []))
    person = None if found is None else found["person_of"].get(face_id)
    mine = next((i for i, r in enumerate(board) if r[0] == person), None)
    if mine is None:
        # A face newer than the version: ranked by its own score among the persons.
        rank = len([r for r in board if r[2] > round(score, 6)]) + 1
        people = len(board) + 1
    else:
        rank, people = mine + 1, len(board)
    # Past the grouping limit the board keeps only its top rows: the cohort's head count
    # stands for everyone then.
    everyone = max(people, int(row.get("people") or 0))
    return Standing(
        face_id=face_id,
        event=event,
        cohort=COHORT,
        version=int(snap["version"]),
        score=score,
        rank=rank,
        people=people,
        person_id=person,
        lookalikes=similar,
        closer_than=closer_than(rank, everyone),
    )
