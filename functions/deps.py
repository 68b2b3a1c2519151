"""Dependencies and request parameters shared by every function, each declared once."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Literal, ParamSpec, TypeVar

from fastapi import Depends, Form, Header, Query, Request

from huchu.config import EVENT_PATTERN, MAX_PAGE, Settings
from huchu.context import Context, build_context
from huchu.errors import Forbidden

P = ParamSpec("P")
T = TypeVar("T")


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """The one place where routes hand blocking work (stores, inference) to a thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


@lru_cache(maxsize=1)
def default_context() -> Context:
    """One context per process (a Lambda container, or the embedded server)."""
    return build_context(Settings())


def get_context(request: Request) -> Context:
    ctx: Context | None = getattr(request.app.state, "context", None)
    return ctx if ctx is not None else default_context()


def owner_token(x_huchu_owner: Annotated[str | None, Header()] = None) -> str | None:
    return x_huchu_owner.strip() if x_huchu_owner and x_huchu_owner.strip() else None


def is_admin(ctx: Context, authorization: str | None) -> bool:
    token = ctx.settings.admin_token
    if not token or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[7:].strip(), token)


def admin_flag(request: Request, authorization: Annotated[str | None, Header()] = None) -> bool:
    return is_admin(get_context(request), authorization)


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    ctx = get_context(request)
    if not ctx.settings.admin_token:
        raise Forbidden("admin calls are disabled: HUCHU_ADMIN_TOKEN is not set")
    if not authorization:
        raise Forbidden("admin calls need Authorization: Bearer <token>")
    if not is_admin(ctx, authorization):
        raise Forbidden("the admin token is not valid")


ContextDep = Annotated[Context, Depends(get_context)]
OwnerDep = Annotated[str | None, Depends(owner_token)]
AdminFlagDep = Annotated[bool, Depends(admin_flag)]
AdminDep = Annotated[None, Depends(require_admin)]

_EVENT_DOC = "the event's slug: 1-40 of a-z, 0-9 and '-'"
EventQuery = Annotated[str, Query(pattern=EVENT_PATTERN, description=_EVENT_DOC)]
EventForm = Annotated[str, Form(pattern=EVENT_PATTERN, description=_EVENT_DOC)]
CursorQuery = Annotated[str | None, Query(max_length=64, description="`next_cursor` of a page")]
GenderQuery = Annotated[Literal["female", "male", "all"] | None, Query()]
CohortQuery = Annotated[Literal["female", "male", "all"], Query()]
MinScoreQuery = Annotated[float | None, Query(ge=-1.0, le=1.0)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size (1-{MAX_PAGE})")]


def rate_limit(request: Request) -> None:
    """Counts an expensive call against its client where the app keeps a limiter."""
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        limiter.hit(request.client.host if request.client else "?")


RateLimitDep = Annotated[None, Depends(rate_limit)]
