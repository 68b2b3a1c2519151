"""Delete my photo: the original, annotated image, portraits, vectors and game traces, at once.

Ordered so that a failure leaves the photo whole or gone, and a retry finishes the job:
the photo and its faces are first marked ``deleting`` (hidden from every read); if the
game or the object store refuses before anything was taken away, the mark is undone
(whole); after that, each step is idempotent and the record goes last (gone, and a
retry completes it). What may wait (the averages' pictures) is handed back as a
function to call once the delete has answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from huchu.context import Context
from huchu.errors import Forbidden
from huchu.photos import owner as owners
from huchu.photos.catalog import get_photo_payload
from huchu.stores.vectors import Point

log = logging.getLogger(__name__)


def delete_photo(
    ctx: Context, photo_id: str, owner_token: str | None, is_admin: bool
) -> Callable[[], None]:
    """Delete now (everything a participant can reach is gone when this returns); the
    function returned draws what waits, and never raises (a scheduled recompute redraws)."""
    payload = get_photo_payload(ctx, photo_id, deleting=True)
    if not (is_admin or owners.owns(owner_token, payload.get("owner_hash"))):
        raise Forbidden("only the photo's owner or an admin may delete it")
    face_ids = [f["face_id"] for f in payload["faces"] if f.get("face_id")]
    faces = ctx.vectors.retrieve(ctx.faces, face_ids, vectors=True)
    keys = [payload["image_key"], payload["annotated_key"]]
    keys += [f["portrait_key"] for f in payload["faces"] if f.get("portrait_key")]
    fresh = not payload.get("deleting")
    _mark(ctx, payload, faces, True)
    changed = False
    try:
        for watcher in ctx.faces_deleted:
            changed |= watcher.before(
                ctx, [f.payload for f in faces], [f.vector or [] for f in faces]
            )
        ctx.objects.delete(keys)
    except Exception:
        if fresh and not changed and _all_there(ctx, keys):
            _mark(ctx, payload, faces, False)  # nothing was taken away: the photo stays whole
        raise
    ctx.vectors.delete(ctx.faces, face_ids)
    events = {payload["event"]}
    for watcher in ctx.faces_deleted:
        watcher.after(ctx, events)
    ctx.vectors.delete(ctx.photos, [photo_id])

    def later() -> None:
        for watcher in ctx.faces_deleted:
            try:
                watcher.later(ctx, events)
            except Exception as exc:  # owed pictures are drawn by the next recompute
                log.warning("after deleting %s: %s", photo_id, exc)

    return later


def _all_there(ctx: Context, keys: list[str]) -> bool:
    folder = keys[0].rsplit("/", 1)[0] + "/"
    try:
        return set(keys) <= set(ctx.objects.list(folder))
    except Exception:
        return False


def _mark(ctx: Context, photo: dict[str, Any], faces: list[Point], deleting: bool) -> None:
    def marked(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k != "deleting"} | (
            {"deleting": True} if deleting else {}
        )

    if faces:
        ctx.vectors.upsert(
            ctx.faces, [Point(f.id, marked(f.payload), f.vector or []) for f in faces]
        )
    ctx.vectors.upsert(ctx.photos, [Point(photo["photo_id"], marked(photo), [1.0])])
