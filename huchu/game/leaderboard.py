"""Faces ranked by similarity to their cohort's average; ties broken by face id."""

from __future__ import annotations

from typing import Any

import numpy as np

from huchu.context import Context
from huchu.game.snapshots import current
from huchu.photos.records import face_json


def ranked(
    ctx: Context, event: str, cohort: str, mean: np.ndarray, limit: int
) -> list[tuple[str, float, dict[str, Any]]]:
    match: dict[str, Any] = {"event": event}
    if cohort != "all":
        match["gender"] = cohort
    # A few extra hits so equal scores at the cut are ordered by id, not by index luck.
    hits = ctx.vectors.search(ctx.faces, [float(v) for v in mean], match, limit + 8)
    rows = sorted(
        ((h.id, round(float(h.score or 0.0), 6), h.payload) for h in hits),
        key=lambda t: (-t[1], t[0]),
    )
    return rows[:limit]


def leaderboard(ctx: Context, event: str, cohort: str, limit: int) -> dict[str, Any]:
    snap = current(ctx, event)
    if snap is None:
        return {"version": 0, "cohort": cohort, "items": []}
    for c in snap["cohorts"]:
        if c["cohort"] == cohort:
            rows = ranked(ctx, event, cohort, np.asarray(c["mean"]), limit)
            return {
                "version": snap["version"],
                "cohort": cohort,
                "items": [
                    {"rank": i + 1, "face": face_json(ctx, p), "score": round(s, 4)}
                    for i, (_, s, p) in enumerate(rows)
                ],
            }
    return {"version": snap["version"], "cohort": cohort, "items": []}
