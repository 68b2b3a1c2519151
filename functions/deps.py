"""Dependencies shared by every function: the context, identity, admin."""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header, Request

from huchu.config import Settings
from huchu.context import Context, build_context
from huchu.errors import Forbidden


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
