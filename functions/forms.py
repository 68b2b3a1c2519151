"""Form fields are UTF-8 text, or the request is refused with 400.

Starlette decodes a multipart field that is not valid in its charset as Latin-1, and a
URL-encoded one with replacement characters: a title of invalid UTF-8 would be stored as
mojibake. Routes of this class read the form strictly first; FastAPI then finds it read.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser

from huchu.errors import BadRequest

NOT_TEXT = "form field {name!r} is not valid UTF-8 text"


class StrictMultiPartParser(MultiPartParser):
    """Starlette's parser, refusing a text field its charset cannot decode."""

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            try:
                bytes(part.data).decode(self._charset or "utf-8")
            except (UnicodeDecodeError, LookupError):
                raise MultiPartException(NOT_TEXT.format(name=part.field_name)) from None
        super().on_part_end()


async def strict_form(request: Request) -> FormData | None:
    """The request's form read strictly (None when it is not a form)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        try:
            return await StrictMultiPartParser(request.headers, request.stream()).parse()
        except MultiPartException as exc:
            raise BadRequest(exc.message) from None
    if kind == "application/x-www-form-urlencoded":
        for pair in (await request.body()).split(b"&"):
            name, _, value = pair.partition(b"=")
            try:
                unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest(NOT_TEXT.format(name=name.decode("latin-1"))) from None
    return None  # FastAPI parses it from the body read above


class StrictForms(APIRoute):
    """A route whose form fields must be UTF-8 text (400 ``bad_request`` otherwise)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            form = await strict_form(request)
            if form is not None:
                request._form = form  # what request.form() answers from now on
            return await handler(request)

        return strict
