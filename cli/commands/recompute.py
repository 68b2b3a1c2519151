"""``huchu recompute [--event E]``."""

from __future__ import annotations

import argparse

from huchu.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from functions.wiring import build_context
    from huchu.game import recompute as game
    from huchu.photos import validate

    event = validate.event(args.event)
    ctx = build_context(settings)
    try:
        result = game.recompute(ctx, event)
    finally:
        ctx.close()
    print(f"event {event}: version {result.version}")
    for c in result.cohorts:
        print(
            f"  {c.cohort:6} count {c.count:5}  mean age {c.mean_age}  "
            f"spread {c.spread}  closest {c.closest_face_id}"
        )
    return 0
