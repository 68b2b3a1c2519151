"""Deletes reach the game at once: out of the sums, out of every version, a new version.

``before`` runs while the photo's faces and picture still exist (the morph sums need the
picture to subtract it); ``after`` runs once the face vectors are gone and publishes a
version with the new numbers, leaderboard and closest faces, without pictures, so that
the delete answers quickly; ``later`` draws the pictures once the delete has answered
(on Lambda, the next scheduled recompute draws them: the state remembers they are owed).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from huchu.context import Context
from huchu.game import redact as redaction
from huchu.game import state as store
from huchu.game.average import GameState
from huchu.game.recompute import add_warp, refresh, warps_of
from huchu.game.render.morph import MorphState

SETTLE_S = 2.0  # a delete's pictures are drawn this long after it (deletes come in bursts)


class GameEraser:
    """The game's part of a delete (held on the ``Context``, see ``build_context``).

    Pictures owed by deletes are drawn by one thread per event at a time, ``SETTLE_S``
    after the delete: deletes that arrive meanwhile are drawn by the same drawing (and one
    that arrives while it draws asks for one more), so a burst of deletes costs one or two
    drawings, not one each; and where a recompute runs more often than that, it has drawn
    them already and nothing is left to draw.
    """

    def __init__(self) -> None:
        # Per event with a drawing to come: "waiting" (settling), "drawing", or "again"
        # (a delete came while drawing: draw once more).
        self._phase: dict[str, str] = {}
        self._lock = threading.Lock()

    def before(
        self, ctx: Context, payloads: list[dict[str, Any]], vectors: list[list[float]]
    ) -> bool:
        by_event: dict[str, list[int]] = {}
        changed = False
        for i, p in enumerate(payloads):
            by_event.setdefault(p["event"], []).append(i)
        for event, idx in by_event.items():
            faces = [(payloads[i], vectors[i]) for i in idx]
            changed |= subtract(ctx, event, faces) is not None
            redaction.settle(ctx, event)  # this delete's versions, and any still owed
        return changed

    def after(self, ctx: Context, events: set[str]) -> None:
        for event in sorted(events):
            refresh(ctx, event, images=False, fold=False)

    def later(self, ctx: Context, events: set[str]) -> None:
        for event in sorted(events):
            self._draw(ctx, event)

    def _draw(self, ctx: Context, event: str) -> None:
        with self._lock:
            phase = self._phase.get(event)
            if phase is not None:
                if phase == "drawing":
                    self._phase[event] = "again"  # drawn by the thread drawing it now
                return  # "waiting" or "again": the coming drawing covers this delete
            self._phase[event] = "waiting"
        try:
            while True:
                time.sleep(SETTLE_S)
                with self._lock:
                    self._phase[event] = "drawing"
                refresh(ctx, event, images=True, fold=False)  # nothing owed: returns at once
                with self._lock:
                    if self._phase[event] != "again":
                        del self._phase[event]
                        return
                    self._phase[event] = "waiting"
        except BaseException:
            with self._lock:
                self._phase.pop(event, None)
            raise


def subtract(
    ctx: Context, event: str, faces: list[tuple[dict[str, Any], list[float]]]
) -> int | None:
    """Take the faces out of the sums; the first version any of them counted in, or None."""
    warps = warps_of(ctx, [p for p, _ in faces])  # before the lock: a fold never waits on it

    def change(state: GameState, morph: MorphState | None) -> int | None:
        assert morph is not None  # asked for below
        hit = [(p, v) for p, v in faces if p["face_id"] in state.members]
        if not hit:
            return None  # never folded in (or already taken out by an earlier try)
        first = min(state.members[p["face_id"]] for p, _ in hit)
        for p, _ in hit:  # owed until its versions are redacted (redact.settle)
            state.unredacted[p["face_id"]] = state.members[p["face_id"]]
        for p, v in hit:
            weighted = p["face_id"] in state.weighted  # taken out as it went in
            scale = state.picture_weight.pop(p["face_id"], 1.0)
            state.remove(p["face_id"], np.asarray(v), p.get("gender"), p.get("age"))
            state.weighted.discard(p["face_id"])
            add_warp(morph, warps[p["face_id"]], p.get("gender"), -1, weighted, scale)
        state.deletions += 1
        state.dirty = True
        return first

    done = store.update(ctx, event, change)
    return None if done is None else done[0]
