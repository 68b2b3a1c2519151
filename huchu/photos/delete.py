"""Delete my photo: the original, annotated image, portraits and vectors, at once."""

from __future__ import annotations

from huchu.context import Context
from huchu.errors import Forbidden
from huchu.photos import owner as owners
from huchu.photos.catalog import get_photo_payload


def delete_photo(ctx: Context, photo_id: str, owner_token: str | None, is_admin: bool) -> None:
    payload = get_photo_payload(ctx, photo_id)
    if not (is_admin or owners.owns(owner_token, payload.get("owner_hash"))):
        raise Forbidden("only the photo's owner or an admin may delete it")
    face_ids = [f["face_id"] for f in payload["faces"] if f.get("face_id")]
    faces = ctx.vectors.retrieve(ctx.faces, face_ids, vectors=True)
    for hook in ctx.faces_deleted:
        hook(ctx, [f.payload for f in faces], [f.vector or [] for f in faces])
    keys = [payload["image_key"], payload["annotated_key"]]
    keys += [f["portrait_key"] for f in payload["faces"] if f.get("portrait_key")]
    # The record goes last: if a step fails, the photo is still listed and
    # retrying the delete finishes the job.
    ctx.vectors.delete(ctx.faces, face_ids)
    ctx.objects.delete(keys)
    ctx.vectors.delete(ctx.photos, [photo_id])
