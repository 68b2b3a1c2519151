"""Where a game keeps its state and versions in the object store."""

from __future__ import annotations

import json
import threading
from typing import Any

from huchu.context import Context
from huchu.errors import NotFound
from huchu.game.average import GameState
from huchu.game.render_morph import MorphState

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def lock(event: str) -> threading.Lock:
    """One recompute or delete-subtraction per event at a time in this process."""
    with _guard:
        return _locks.setdefault(event, threading.Lock())


def prefix(event: str) -> str:
    return f"events/{event}/game"


def version_prefix(event: str, version: int) -> str:
    return f"{prefix(event)}/versions/{version:06d}"


def get_json(ctx: Context, key: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(ctx.objects.get(key))
        return data
    except NotFound:
        return None


def put_json(ctx: Context, key: str, data: dict[str, Any]) -> None:
    ctx.objects.put(key, json.dumps(data).encode(), "application/json")


def load(ctx: Context, event: str) -> tuple[GameState, MorphState]:
    raw = get_json(ctx, f"{prefix(event)}/state.json")
    state = GameState.from_json(raw) if raw else GameState.empty(ctx.inference.info.embedding_dim)
    try:
        morph = MorphState.from_bytes(ctx.objects.get(f"{prefix(event)}/morph.npz"))
    except NotFound:
        morph = MorphState()
    return state, morph


def save(ctx: Context, event: str, state: GameState, morph: MorphState) -> None:
    # Morph sums first: a state.json never claims faces the sums lack.
    ctx.objects.put(f"{prefix(event)}/morph.npz", morph.to_bytes(), "application/octet-stream")
    put_json(ctx, f"{prefix(event)}/state.json", state.to_json())
