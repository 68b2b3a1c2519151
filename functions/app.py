"""The shape every function shares: errors, CORS, body limits, a lazy Mangum handler."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp

from functions import errors
from functions.cards import CardCache
from functions.headers import SecurityHeaders, page_csp
from functions.ratelimit import RateLimiter, parse_networks
from huchu.config import Settings
from huchu.errors import Forbidden, HuchuError, LengthRequired, TooLarge, error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
LambdaHandler = Callable[[dict[str, Any], Any], Any]

# Multipart framing and the small form fields around the file.
FORM_OVERHEAD = 64 * 1024


def unframed(headers: dict[bytes, bytes]) -> bool:
    """A POST or PUT describes a body (Content-Type) with neither Content-Length nor chunked
    transfer encoding: HTTP/1.1 reads it as no body, and its bytes as the next request."""
    return (
        b"content-type" in headers
        and b"content-length" not in headers
        and b"transfer-encoding" not in headers
    )


class BodyLimit:
    """413 as soon as a body passes the limit: by Content-Length, or while streaming.

    A chunked body has no length up front: the count runs as the app reads, and once it
    passes the limit whatever the app makes of the cut stream (a form parser answers 400)
    is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes + FORM_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _answer(scope, send, TooLarge("the upload is larger than the limit"))
            return
        if unframed(headers):
            refused = LengthRequired("a body needs Content-Length or chunked transfer encoding")
            await _answer(scope, send, refused, close=True)
            return
        seen = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                over = True
                raise TooLarge("the upload is larger than the limit")
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a cut body; the 413 goes out instead
            started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except TooLarge:
            if not over:
                raise
        if over and not started:
            await _answer(scope, send, TooLarge("the upload is larger than the limit"))


class OriginCheck:
    """Only requests that came through CloudFront (its ``X-Huchu-Origin`` header) are
    served: the web ACL's per-client limits cannot be gone around through API Gateway."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sent = dict(scope.get("headers", [])).get(b"x-huchu-origin", b"")
            if not hmac.compare_digest(sent, self.secret):
                await _answer(scope, send, Forbidden("call the API through the site's address"))
                return
        await self.app(scope, receive, send)


async def _answer(scope: Scope, send: Send, exc: HuchuError, close: bool = False) -> None:
    """An error from a middleware, in the same body (JSON or fragment) as from a route;
    ``close``: the connection ends with it (what follows on it cannot be trusted)."""
    from starlette.requests import Request

    response = errors.error_response(Request(scope), exc.status, exc.code, exc.message)
    if close:
        response.headers["Connection"] = "close"
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


HX_REQUEST_HEADERS = [
    "HX-Request",
    "HX-Current-URL",
    "HX-Target",
    "HX-Trigger",
    "HX-Trigger-Name",
    "HX-Boosted",
    "HX-Prompt",
    "HX-History-Restore-Request",
]
HX_RESPONSE_HEADERS = [
    "HX-Trigger",
    "HX-Trigger-After-Swap",
    "HX-Trigger-After-Settle",
    "HX-Redirect",
    "HX-Location",
    "HX-Push-Url",
    "HX-Replace-Url",
    "HX-Refresh",
    "HX-Reswap",
    "HX-Retarget",
]


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the contract's error body."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode("utf-8", "replace")
        body = error_body("forbidden", f"{refused}: not allowed to call this API")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in CONTENT_HEADERS}
        return JSONResponse(body, status_code=403, headers=headers)


CONTENT_HEADERS = ("content-length", "content-type")


def add_cors(app: FastAPI, settings: Settings) -> None:
    origins = settings.cors_origin_list
    if origins:
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                *HX_REQUEST_HEADERS,
                "X-Huchu-Owner",
                "X-Huchu-Lang",
                "Authorization",
                "Content-Type",
            ],
            expose_headers=[*HX_RESPONSE_HEADERS, "X-Huchu-Owner-Token", "Retry-After"],
            max_age=600,
        )


def create_app(title: str, routers: Sequence[APIRouter], settings: Settings) -> FastAPI:
    app = FastAPI(title=title, version="1")
    # Per container: a guesser is slowed at least as much as one container's share of it.
    app.state.admin_failures = RateLimiter(settings.admin_failures_per_minute)
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.cards = CardCache(settings.cards_per_minute)
    app.state.max_upload_bytes = settings.max_upload_bytes  # for OpenAPI
    errors.install(app)
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    add_cors(app, settings)
    if settings.origin_secret:
        app.add_middleware(OriginCheck, secret=settings.origin_secret)
    app.add_middleware(SecurityHeaders, page_csp=page_csp(settings))
    return app


def mangum(app: FastAPI) -> LambdaHandler:
    """API Gateway (HTTP API) events in, the app's answers out."""
    from mangum import Mangum

    # Mangum answers only when the app is done, background tasks included: work that
    # could wait for the answer (a delete's pictures) is left to the scheduled recompute.
    app.state.work_after_answer = False
    adapter: LambdaHandler = Mangum(app, lifespan="off")
    return adapter


def lazy_handler(factory: Callable[[], FastAPI]) -> LambdaHandler:
    """A Lambda handler that builds its app (and Mangum) on the first event, not on import."""

    @lru_cache(maxsize=1)
    def adapter() -> LambdaHandler:
        return mangum(factory())

    def handler(event: dict[str, Any], context: Any) -> Any:
        return adapter()(event, context)

    return handler
