"""Errors as values at the boundary: every failure becomes the contract's error body, once.

Routes list the statuses they can answer with ``responses(...)``, so OpenAPI shows each
with the ``ErrorBody`` model; request validation answers 400 ``bad_request`` (not 422).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from huchu.errors import HuchuError, error_body
from huchu.schemas import ErrorBody

log = logging.getLogger("huchu.functions")

CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    422: "no_face",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}

# Every route can fail on our side or find a store down.
ALWAYS = (500, 503)


# Headers an error status always carries, documented with it.
HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    429: {
        "Retry-After": {
            "description": "seconds until the client may call again",
            "schema": {"type": "integer", "minimum": 1},
            "required": True,
        }
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, with the error model."""
    entries: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, *ALWAYS}):
        entries[status] = {"model": ErrorBody, "description": f"`{CODES[status]}`"}
        if status in HEADERS:
            entries[status]["headers"] = HEADERS[status]
    return entries


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    if request.headers.get("hx-request") == "true":
        from functions.fragments import error_fragment

        response = error_fragment(request, status, code, message)
    else:
        response = JSONResponse(error_body(code, message), status_code=status)
    response.headers.update(headers or {})
    return response


METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request, fallback: str | None) -> str:
    """Every method some route takes on this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed) if allowed else (fallback or "GET, HEAD")


def install(app: FastAPI) -> None:
    @app.exception_handler(HuchuError)
    async def huchu_error(request: Request, exc: HuchuError) -> Response:
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return error_response(request, exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return error_response(request, 400, "bad_request", message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request, headers.get("Allow"))
        return error_response(request, exc.status_code, code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal", "something went wrong on our side")

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, less the 422 it adds for validation (ours answer 400 instead), and
    with optional parameters as what they are on the wire: absent or a value, never null."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                answers = operation.get("responses", {})
                if "HTTPValidationError" in str(answers.get("422", "")):
                    del answers["422"]
                for parameter in operation.get("parameters", []):
                    parameter["schema"] = _not_null(parameter.get("schema", {}))
        components = schema.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        limit = getattr(app.state, "max_upload_bytes", None)
        if limit is not None and "UploadStart" in components:
            components["UploadStart"]["properties"]["size"]["maximum"] = limit
        app.openapi_schema = schema
    return app.openapi_schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` becomes X (keeping the title, description and a real default)."""
    options = [o for o in schema.get("anyOf", []) if o != {"type": "null"}]
    if len(options) != 1 or len(options) == len(schema.get("anyOf", [])):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if rest.get("default", 0) is None:
        del rest["default"]
    return {**options[0], **rest}
