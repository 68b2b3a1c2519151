"""Leftovers of uploads and deletes that died midway (a crash, kill -9), cleared.

An upload writes its files, then its face vectors, then the photo record; a delete
marks the photo, then takes everything away, the record last. A process killed between
two steps leaves files or faces without a record, or a photo marked ``deleting``. A
sweep finishes those deletes and removes what no record owns, once it is older than
``older_than_s`` (so uploads still in flight elsewhere are left alone).
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from huchu.context import Context
from huchu.errors import HuchuError
from huchu.photos.delete import delete_photo
from huchu.photos.staged import forget_processed
from huchu.stores.ids import id_time, is_id
from huchu.stores.objects import LocalObjectStore

PAGE = 1024
log = logging.getLogger(__name__)


def sweep(ctx: Context, older_than_s: float) -> Counter[str]:
    cutoff = time.time() - older_than_s
    done: Counter[str] = Counter()
    photos: set[str] = set()
    cursor = None
    while True:
        page, cursor = ctx.vectors.scroll(ctx.photos, {}, PAGE, cursor)
        for p in page:
            if p.payload.get("deleting") and id_time(p.id) < cutoff:
                try:
                    delete_photo(ctx, p.id, None, is_admin=True)()
                except HuchuError as exc:  # still refused: it stays marked, owed to the next
                    log.warning("delete of %s still owed: %s", p.id, exc)
                    done["deletes still owed"] += 1
                    photos.add(p.id)  # its record still owns what is left
                    continue
                done["deletes finished"] += 1
            else:
                photos.add(p.id)
        if cursor is None:
            break
    stray: list[str] = []
    cursor = None
    while True:
        page, cursor = ctx.vectors.scroll(ctx.faces, {}, PAGE, cursor)
        stray += [
            f.id for f in page if f.payload.get("photo_id") not in photos and id_time(f.id) < cutoff
        ]
        if cursor is None:
            break
    if stray:
        ctx.vectors.delete(ctx.faces, stray)
        done["faces without a photo"] += len(stray)
    files = [
        key
        for key in ctx.objects.list("events/")
        if (photo := _photo_of(key)) is not None and photo not in photos and id_time(photo) < cutoff
    ]
    if files:
        ctx.objects.delete(files)
        done["files without a photo"] += len(files)
    local = ctx.objects if isinstance(ctx.objects, LocalObjectStore) else None
    if local is not None and (cleared := local.clear_temporary(older_than_s)):
        done["temporary files of killed writes"] += cleared
    if forgotten := forget_processed(ctx, time.time()):
        done["marks of expired direct uploads"] += forgotten
    return done


def _photo_of(key: str) -> str | None:
    """``events/<e>/photos/<id>/...`` -> ``<id>``."""
    parts = key.split("/")
    if len(parts) >= 4 and parts[2] == "photos" and is_id(parts[3]):
        return parts[3]
    return None
