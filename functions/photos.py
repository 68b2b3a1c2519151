"""Photos function: upload and delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, File, Form, Request, Response, UploadFile
from starlette.datastructures import UploadFile as StarletteUpload

from functions.app import create_app as create_function
from functions.app import lazy_handler
from functions.deps import (
    AdminFlagDep,
    ContextDep,
    EventForm,
    OwnerDep,
    RateLimitDep,
    blocking,
)
from functions.errors import responses
from functions.fragments import htmx
from huchu.config import DEFAULT_EVENT, Settings
from huchu.errors import BadRequest, TooLarge
from huchu.photos import validate
from huchu.photos.delete import delete_photo
from huchu.photos.upload import UploadRequest, upload_photo
from huchu.schemas import UploadedPhoto

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


@router.post(
    "/api/photos",
    status_code=201,
    response_model=UploadedPhoto,
    responses=responses(400, 413, 415, 422, 429),
)
async def create_photo(
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    _: RateLimitDep,
    file: Annotated[UploadFile | None, File(description="the photo")] = None,
    consent: Annotated[str | None, Form(description="must be `true`")] = None,
    title: Annotated[str | None, Form(max_length=100)] = None,
    event: EventForm = DEFAULT_EVENT,
) -> Response:
    """Upload a photo (consent required); every accepted face is stored."""
    validate.consent(consent)
    clean_title = validate.title(title)
    data = await read_upload(file, ctx.settings.max_upload_bytes)
    body = await blocking(upload_photo, ctx, UploadRequest(data, event, clean_title, owner))
    response = htmx(
        request, "fragments/upload_result.html", "photo", body, 201, exclude=body.unset()
    )
    if body.owner_token:  # htmx callers get HTML, so the new token also rides a header
        response.headers["X-Huchu-Owner-Token"] = body.owner_token
    return response


@router.delete(
    "/api/photos/{photo_id}",
    status_code=204,
    response_class=Response,
    responses=responses(403, 404),
)
async def remove_photo(
    photo_id: str, request: Request, ctx: ContextDep, owner: OwnerDep, admin: AdminFlagDep
) -> Response:
    """Delete a photo and everything made from it (owner or admin)."""
    await blocking(delete_photo, ctx, photo_id, owner, admin)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Trigger": "photo-deleted"})
    return Response(status_code=204)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_function("Huchu photos", [router], settings or Settings())


handler = lazy_handler(create_app)
