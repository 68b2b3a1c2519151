"""Photos function: upload and delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from starlette.datastructures import UploadFile as StarletteUpload

from functions.app import create_app, lambda_handler
from functions.deps import AdminFlagDep, ContextDep, OwnerDep
from functions.fragments import htmx
from huchu.errors import BadRequest, TooLarge
from huchu.game import recompute as _game  # noqa: F401  (registers the delete hook)
from huchu.photos import validate
from huchu.photos.delete import delete_photo
from huchu.photos.upload import UploadRequest, upload_photo

router = APIRouter(tags=["photos"])


async def read_upload(file: StarletteUpload | None, max_bytes: int) -> bytes:
    if file is None or not isinstance(file, StarletteUpload):
        raise BadRequest("a file is required")
    if file.size is not None and file.size > max_bytes:
        raise TooLarge(f"the file is larger than {max_bytes} bytes")
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(f"the file is larger than {max_bytes} bytes")
    return data


@router.post("/api/photos", status_code=201)
async def create_photo(
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    file: Annotated[UploadFile | None, File()] = None,
    consent: Annotated[str | None, Form()] = None,
    title: Annotated[str | None, Form()] = None,
    event: Annotated[str | None, Form()] = None,
) -> Any:
    """Upload a photo (consent required); every accepted face is stored."""
    validate.consent(consent)
    req = UploadRequest(
        data=b"",
        event=validate.event(event),
        title=validate.title(title),
        owner_token=owner,
    )
    data = await read_upload(file, ctx.settings.max_upload_bytes)
    body = await upload_photo(ctx, UploadRequest(data, req.event, req.title, req.owner_token))
    response = htmx(request, "fragments/upload_result.html", {"photo": body}, body, status=201)
    if "owner_token" in body:  # htmx callers get HTML, so the new token also rides a header
        response.headers["X-Huchu-Owner-Token"] = body["owner_token"]
    return response


@router.delete("/api/photos/{photo_id}", status_code=204)
async def remove_photo(
    photo_id: str, request: Request, ctx: ContextDep, owner: OwnerDep, admin: AdminFlagDep
) -> Response:
    """Delete a photo and everything made from it (owner or admin)."""
    import asyncio

    await asyncio.to_thread(delete_photo, ctx, photo_id, owner, admin)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Trigger": "photo-deleted"})
    return Response(status_code=204)


app = create_app("Huchu photos", [router])
handler = lambda_handler(app)
