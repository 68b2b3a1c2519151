"""Direct-to-bucket uploads: a presigned PUT to a staging key, then processing from there."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime

from huchu import events
from huchu.context import Context
from huchu.errors import NotFound, TooLarge, UnsupportedMedia
from huchu.photos.upload import UploadRequest, upload_photo
from huchu.schemas import IMAGE_TYPES, UploadedPhoto, UploadTicket
from huchu.stores.objects import Conflict

STAGING = "staging/"
# One small object (its expiry) per processed upload: its presigned PUT stays valid for 15
# minutes, and without this mark the same bytes could be sent and processed again.
PROCESSED = STAGING + "processed/"
EXPIRES = 15 * 60  # the contract's "at most 15 minutes"
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{32}")


def start_upload(ctx: Context, event: str, content_type: str, size: int) -> UploadTicket:
    """Sign a PUT of exactly ``size`` bytes of ``content_type`` to a new staging key."""
    events.require_open(ctx, event)  # unknown: 404; closed: 403, before any byte is sent
    limit = ctx.settings.max_upload_bytes
    if size > limit:
        raise TooLarge(f"the file is larger than {limit} bytes")
    media = content_type.split(";")[0].strip().lower()
    if media not in IMAGE_TYPES:
        raise UnsupportedMedia(f"{content_type!r} is not an image type Huchu decodes")
    upload_id = secrets.token_urlsafe(24)
    put = ctx.objects.upload_url(STAGING + upload_id, media, size, EXPIRES)
    expires_at = datetime.fromtimestamp(put.expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return UploadTicket(
        upload_id=upload_id, url=put.url, headers=put.headers, expires_at=expires_at
    )


def discard(ctx: Context, upload_id: str) -> None:
    """Delete the staged bytes of an upload that will not be processed."""
    if _UPLOAD_ID.fullmatch(upload_id):
        ctx.objects.delete([STAGING + upload_id])


def process_upload(
    ctx: Context, upload_id: str, event: str, title: str | None, owner: str | None
) -> UploadedPhoto:
    """The ``POST /api/photos`` answer for the staged bytes, which are deleted in any case."""
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise NotFound("no such upload")
    key = STAGING + upload_id
    try:
        try:
            data = ctx.objects.get(key)
        except NotFound:
            raise NotFound("no such upload: it was never sent, or has been processed") from None
        claim(ctx, upload_id)
        if len(data) > ctx.settings.max_upload_bytes:
            raise TooLarge(f"the file is larger than {ctx.settings.max_upload_bytes} bytes")
        return upload_photo(ctx, UploadRequest(data, event, title, owner))
    finally:
        ctx.objects.delete([key])


def claim(ctx: Context, upload_id: str) -> None:
    """Mark the upload processed, once: a second claim (a replayed PUT) is ``NotFound``."""
    expires = str(int(time.time()) + EXPIRES).encode()
    try:
        ctx.objects.put_if(PROCESSED + upload_id, expires, "text/plain", None)
    except Conflict:
        raise NotFound("no such upload: this one has been processed already") from None


def was_processed(ctx: Context, key: str) -> bool:
    """Whether the staging ``key`` belongs to an upload processed already."""
    try:
        ctx.objects.get(PROCESSED + key.removeprefix(STAGING))
    except NotFound:
        return False
    return True


def forget_processed(ctx: Context, now: float) -> int:
    """Drop the marks whose upload's PUT has expired (they guard nothing any more)."""
    gone = []
    for key in ctx.objects.list(PROCESSED):
        try:
            if int(ctx.objects.get(key) or b"0") < now:
                gone.append(key)
        except (NotFound, ValueError):
            gone.append(key)
    ctx.objects.delete(gone)
    return len(gone)
