"""Ranking: faces by closeness to their cohort's average.

The leaderboard breaks ties by face id. (The event's look-alike graph and its hidden
families live in the graph database: ``huchu.photos.family``.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from huchu.context import Context
from huchu.game.state import current
from huchu.photos.catalog import visible
from huchu.photos.records import face_model
from huchu.schemas import Cohort, Leaderboard, LeaderboardItem


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


def leaderboard(ctx: Context, event: str, cohort: Cohort, limit: int) -> Leaderboard:
    snap = current(ctx, event)
    version = 0 if snap is None else int(snap["version"])
    for c in [] if snap is None else snap["cohorts"]:
        if c["cohort"] == cohort:
            rows = ranked(ctx, event, cohort, np.asarray(c["mean"]), limit)
            items = [
                LeaderboardItem(rank=i + 1, face=face_model(ctx, p), score=s)
                for i, (_, s, p) in enumerate(rows)
            ]
            return Leaderboard(version=version, cohort=cohort, items=items)
    return Leaderboard(version=version, cohort=cohort, items=[])
