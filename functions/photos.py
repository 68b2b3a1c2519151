"""Photos function: upload and delete."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from functions.app import create_app as create_function
from functions.app import lazy_handler
from functions.deps import (
    AdminFlagDep,
    ConsentForm,
    ContextDep,
    EventForm,
    FileForm,
    OwnerDep,
    RateLimitDep,
    TitleForm,
    blocking,
    get_context,
)
from functions.errors import responses
from functions.forms import StrictForms
from functions.fragments import htmx
from huchu.config import DEFAULT_EVENT, Settings
from huchu.errors import BadRequest, HuchuError, TooLarge
from huchu.photos import validate
from huchu.photos.delete import delete_photo
from huchu.photos.staged import discard, process_upload, start_upload
from huchu.photos.upload import UploadRequest, upload_photo
from huchu.schemas import UploadedPhoto, UploadStart, UploadTicket

router = APIRouter(tags=["photos"], route_class=StrictForms)


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
    responses=responses(400, 403, 404, 413, 415, 422, 429),
)
async def create_photo(
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    _: RateLimitDep,
    file: FileForm,
    consent: ConsentForm,
    title: TitleForm = None,
    event: EventForm = DEFAULT_EVENT,
) -> Response:
    """Upload a photo (consent required); every accepted face is stored."""
    validate.consent(consent)
    clean_title = validate.title(title)
    data = await read_upload(file, ctx.settings.max_upload_bytes)
    body = await blocking(upload_photo, ctx, UploadRequest(data, event, clean_title, owner))
    return _uploaded(request, body)


def _uploaded(request: Request, body: UploadedPhoto) -> Response:
    response = htmx(
        request, "fragments/upload_result.html", "photo", body, 201, exclude=body.unset()
    )
    if body.owner_token:  # htmx callers get HTML, so the new token also rides a header
        response.headers["X-Huchu-Owner-Token"] = body.owner_token
    return response


@router.post(
    "/api/uploads",
    status_code=201,
    response_model=UploadTicket,
    responses=responses(400, 403, 404, 413, 415, 429),
)
async def create_upload(ctx: ContextDep, _: RateLimitDep, start: UploadStart) -> UploadTicket:
    """A presigned PUT that stores the photo under a staging key (larger photos than a
    function's request can carry go this way); then call ``/api/uploads/{id}/process``."""
    return start_upload(ctx, start.event, start.content_type, start.size)


class DiscardRefused(StrictForms):
    """A refused direct upload has its staged bytes deleted, as the contract says (whatever
    the outcome), also when it is refused before its route runs (a field the schema refuses)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def refusing(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HuchuError):
                upload_id = request.path_params.get("upload_id", "")
                await blocking(discard, get_context(request), upload_id)
                raise

        return refusing


# The processing of a direct upload, with its own route class (refusals discard the bytes).
staged_router = APIRouter(tags=["photos"], route_class=DiscardRefused)


@staged_router.post(
    "/api/uploads/{upload_id}/process",
    status_code=201,
    response_model=UploadedPhoto,
    responses=responses(400, 403, 404, 413, 415, 422, 429),
)
async def process_staged(
    upload_id: str,
    request: Request,
    ctx: ContextDep,
    owner: OwnerDep,
    _: RateLimitDep,
    consent: ConsentForm,
    title: TitleForm = None,
    event: EventForm = DEFAULT_EVENT,
) -> Response:
    """The uploaded photo, processed as ``POST /api/photos``; the staged bytes are deleted."""
    validate.consent(consent)
    clean_title = validate.title(title)
    body = await blocking(process_upload, ctx, upload_id, event, clean_title, owner)
    return _uploaded(request, body)




@router.delete(
    "/api/photos/{photo_id}",
    status_code=204,
    response_class=Response,
    responses=responses(400, 403, 404, 429),
)
async def remove_photo(
    photo_id: str,
    request: Request,
    background: BackgroundTasks,
    ctx: ContextDep,
    owner: OwnerDep,
    admin: AdminFlagDep,
) -> Response:
    """Delete a photo and everything made from it (owner or admin)."""
    later = await blocking(delete_photo, ctx, photo_id, owner, admin)
    if getattr(request.app.state, "work_after_answer", True):
        background.add_task(later)  # the averages' pictures, redrawn once this has answered
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Trigger": "photo-deleted"})
    return Response(status_code=204)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_function("Huchu photos", [router, staged_router], settings or Settings())


handler = lazy_handler(create_app)
