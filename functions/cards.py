"""Share cards are costly to draw (a second or more of CPU): each is drawn once, then cached.

A card is keyed by the digest of what it shows (``sharing.CardParts``), which is also its
ETag: a browser that has it gets 304, a repeat gets the cached bytes, and only a card not
seen before is drawn, counted against its client's per-minute allowance and drawn by at
most one thread at a time, so a burst of cards cannot take the CPU from uploads.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict

import anyio
import anyio.to_thread
from fastapi import Request, Response

from functions.deps import blocking, client_of
from functions.ratelimit import RateLimiter
from huchu import sharing
from huchu.context import Context

# About 25 PNG cards (or 150 JPEG ones) held at once.
CACHE_BYTES = 32 * 1024 * 1024


class CardCache:
    """Drawn cards by digest, least recently used dropped past ``max_bytes``."""

    def __init__(self, per_minute: int, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.drawing = RateLimiter(per_minute)
        self._cards: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._pending: dict[str, asyncio.Lock] = {}
        self._one_at_a_time: anyio.CapacityLimiter | None = None

    def get(self, digest: str) -> bytes | None:
        with self._lock:
            data = self._cards.get(digest)
            if data is not None:
                self._cards.move_to_end(digest)
            return data

    def put(self, digest: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._cards.pop(digest, None)
            self._size += len(data) - (len(old) if old is not None else 0)
            self._cards[digest] = data
            while self._size > self.max_bytes:
                _, dropped = self._cards.popitem(last=False)
                self._size -= len(dropped)

    async def card(self, request: Request, parts: sharing.CardParts, kind: str) -> bytes:
        """The drawn card: cached, or drawn once however many ask for it at the same time."""
        digest = parts.digest(kind)
        found = self.get(digest)
        if found is not None:
            return found
        self.drawing.hit(client_of(request))  # only a card not seen before costs a draw
        lock = self._pending.setdefault(digest, asyncio.Lock())
        try:
            async with lock:
                found = self.get(digest)
                if found is not None:
                    return found
                if self._one_at_a_time is None:
                    self._one_at_a_time = anyio.CapacityLimiter(1)
                data = await anyio.to_thread.run_sync(
                    sharing.render_card, parts, kind, limiter=self._one_at_a_time
                )
                self.put(digest, data)
                return data
        finally:
            if not lock.locked():
                self._pending.pop(digest, None)


async def card_response(
    request: Request, ctx: Context, face_id: str, lang: sharing.Lang, kind: str
) -> Response:
    """The card, or 304 when the browser already has this one."""
    parts = await blocking(sharing.card_parts, ctx, face_id, lang)
    etag = f'"{parts.digest(kind)}"'
    # Revalidated on each use: a new look-alike or average changes the card (and its ETag).
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "X-Huchu-Lang"}
    wanted = request.headers.get("if-none-match", "")
    if etag in (t.strip() for t in wanted.split(",")):
        return Response(status_code=304, headers=headers)
    cache: CardCache = request.app.state.cards
    data = await cache.card(request, parts, kind)
    return Response(data, media_type=f"image/{kind}", headers=headers)
