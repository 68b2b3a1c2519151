"""Dependencies and request parameters shared by every function, each declared once."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Literal, ParamSpec, TypeVar

import anyio.to_thread
from fastapi import Depends, File, Form, Header, Query, Request, UploadFile

from functions.ratelimit import RateLimiter, client_address
from functions.wiring import build_context
from huchu.config import EVENT_PATTERN, MAX_PAGE, Settings
from huchu.context import Context
from huchu.errors import Forbidden
from huchu.photos import owner as owners

P = ParamSpec("P")
T = TypeVar("T")


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """The one place where routes hand blocking work (stores, inference) to a thread.

    anyio's pool (40 threads, Starlette's own), not asyncio's default executor: that one
    has cpu_count + 4 threads (6 on 2 cores), and uploads waiting for their analysis held
    all six, so every read and delete queued behind them (p50 1.3 s for a cached read)."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


@lru_cache(maxsize=1)
def default_context() -> Context:
    """One context per process (a Lambda container, or the embedded server)."""
    return build_context(Settings())


def get_context(request: Request) -> Context:
    ctx: Context | None = getattr(request.app.state, "context", None)
    return ctx if ctx is not None else default_context()


_OWNER_DOC = "the owner token this server issued on an upload (URL-safe, 22-128 characters)"


def owner_token(
    x_huchu_owner: Annotated[
        str | None, Header(pattern=owners.TOKEN_PATTERN, description=_OWNER_DOC)
    ] = None,
) -> str | None:
    """The client's owner token; one not of the issued form is refused with 400."""
    return x_huchu_owner


def is_admin(ctx: Context, authorization: str | None) -> bool:
    token = ctx.settings.admin_token
    if not token or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[7:].strip(), token)


def client_of(request: Request) -> str:
    """Who the client is, believing X-Forwarded-For only from the app's trusted proxies."""
    peer = request.client.host if request.client else None
    proxies = getattr(request.app.state, "trusted_proxies", ())
    return client_address(peer, request.headers.get("x-forwarded-for"), proxies)


def admin_attempt(request: Request, authorization: str | None) -> bool:
    """Whether ``authorization`` is the admin's; a client that sent too many wrong tokens in
    the last minute gets 429 before its token is even compared."""
    ctx = get_context(request)
    if not authorization or not ctx.settings.admin_token:
        return False
    failures: RateLimiter | None = getattr(request.app.state, "admin_failures", None)
    client = client_of(request)
    if failures is not None:
        failures.check(client)
    if is_admin(ctx, authorization):
        return True
    if failures is not None:
        failures.hit(client)
    return False


def admin_flag(request: Request, authorization: Annotated[str | None, Header()] = None) -> bool:
    return admin_attempt(request, authorization)


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    ctx = get_context(request)
    if not ctx.settings.admin_token:
        raise Forbidden("admin calls are disabled: HUCHU_ADMIN_TOKEN is not set")
    if not authorization:
        raise Forbidden("admin calls need Authorization: Bearer <token>")
    if not admin_attempt(request, authorization):
        raise Forbidden("the admin token is not valid")


ContextDep = Annotated[Context, Depends(get_context)]
OwnerDep = Annotated[str | None, Depends(owner_token)]
AdminFlagDep = Annotated[bool, Depends(admin_flag)]
AdminDep = Annotated[None, Depends(require_admin)]

_EVENT_DOC = "the event's slug: 1-40 of a-z, 0-9 and '-'"
EventQuery = Annotated[str, Query(pattern=EVENT_PATTERN, description=_EVENT_DOC)]
EventForm = Annotated[str, Form(pattern=EVENT_PATTERN, description=_EVENT_DOC)]
# What the page sends for its consent box; case is ignored.
CONSENT_PATTERN = r"^(?i:true|on|1|yes)$"
# At most 100 characters, none of them a control character.
TITLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
FileForm = Annotated[UploadFile, File(description="the photo (JPEG, PNG, WebP, HEIC, GIF)")]
ConsentForm = Annotated[str, Form(pattern=CONSENT_PATTERN, description="must be `true`")]
TitleForm = Annotated[
    str | None, Form(max_length=100, pattern=TITLE_PATTERN, description="the photo's title")
]
# A cursor is the id of the page's first item (empty: the first page).
CURSOR_PATTERN = r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$"
CursorQuery = Annotated[
    str | None, Query(pattern=CURSOR_PATTERN, description="`next_cursor` of a page")
]
GenderQuery = Annotated[Literal["female", "male", "all"] | None, Query()]
CohortQuery = Annotated[Literal["female", "male", "all"], Query()]
MinScoreQuery = Annotated[float | None, Query(ge=-1.0, le=1.0)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size (1-{MAX_PAGE})")]


def rate_limit(request: Request) -> None:
    """Counts an expensive call against its client where the app keeps a limiter."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        limiter.hit(client_of(request))


RateLimitDep = Annotated[None, Depends(rate_limit)]
