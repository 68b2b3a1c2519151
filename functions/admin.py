"""Admin function: embedding export and event set-up (the game's recompute: see averages)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from functions.app import create_app as create_function
from functions.app import lazy_handler
from functions.deps import AdminDep, ContextDep, blocking
from functions.errors import responses
from huchu.config import Settings
from huchu.photos import catalog
from huchu.schemas import Embedding

router = APIRouter(tags=["admin"])


@router.get(
    "/api/admin/faces/{face_id}/embedding",
    response_model=Embedding,
    responses=responses(403, 404, 429),
)
async def face_embedding(face_id: str, ctx: ContextDep, _: AdminDep) -> Embedding:
    """The face's vector exactly as stored."""
    return await blocking(catalog.face_embedding, ctx, face_id)


def create_app(settings: Settings | None = None) -> FastAPI:
    from functions import events  # on first use: a cold start imports no more

    return create_function("Huchu admin", [router, events.setup_router], settings or Settings())


handler = lazy_handler(create_app)
