"""Versions that a deleted face counted in lose their pictures and every mention of it.

The state keeps each such face (``GameState.unredacted``) from the moment it leaves the
sums until its versions are redacted, so a redaction that fails midway (the object store
refused a delete) stays owed: the next delete or recompute of the event finishes it.
"""

from __future__ import annotations

from huchu.context import Context
from huchu.game import state as store
from huchu.game.average import GameState
from huchu.game.render.morph import MorphState


def redact(ctx: Context, event: str, first: int, face_ids: set[str]) -> None:
    """Versions the faces counted in keep their numbers and lose every picture and mention.

    A version an earlier delete redacted, with none of these faces named, is left as is:
    a delete's work grows with the versions published since the last one, not with all."""
    for snap in store.versions_from(ctx, event, first):
        version = int(snap["version"])
        named = any(c.get("closest_face_id") in face_ids for c in snap["cohorts"])
        if snap.get("redacted") and not snap.get("images") and not named:
            continue
        ctx.objects.delete(ctx.objects.list(f"{store.version_prefix(event, version)}/"))
        snap["images"] = {}
        snap["redacted"] = True
        for cohort in snap["cohorts"]:
            if cohort.get("closest_face_id") in face_ids:
                cohort["closest_face_id"] = None
        store.write_version(ctx, snap)


def settle(ctx: Context, event: str) -> bool:
    """Redact whatever the event's state still owes; True when something was owed.
    Raises (and it stays owed) when the object store refuses."""
    owed = dict(store.load_stats(ctx, event)[0].unredacted)
    if not owed:
        return False
    redact(ctx, event, min(owed.values()), set(owed))

    def done(state: GameState, _: MorphState | None) -> bool | None:
        left = {k: v for k, v in state.unredacted.items() if owed.get(k) != v}
        if left == state.unredacted:
            return None
        state.unredacted = left
        return True

    store.update(ctx, event, done, morph=False)
    return True
