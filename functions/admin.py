"""Admin function: embedding export (and the game's recompute, see averages)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from functions.app import create_app, lambda_handler
from functions.deps import AdminDep, ContextDep
from huchu.photos import catalog

router = APIRouter(tags=["admin"])


@router.get("/api/admin/faces/{face_id}/embedding")
async def face_embedding(face_id: str, ctx: ContextDep, _: AdminDep) -> dict[str, Any]:
    """The face's vector exactly as stored."""
    return await asyncio.to_thread(catalog.face_embedding, ctx, face_id)


app = create_app("Huchu admin", [router])
handler = lambda_handler(app)
