"""The embedded app's rate limit: who the client is, and a bounded per-client window."""

from __future__ import annotations

import bisect
import ipaddress
import math
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence

from huchu.errors import RateLimited

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

WINDOW_SECONDS = 60.0
# Clients remembered at once; past it the least recently seen is forgotten, so an address
# flood costs at most this many windows (each at most `per_minute` timestamps).
MAX_CLIENTS = 10_000


class Throttled(RateLimited):
    """429 ``rate_limited`` with the seconds until the window lets the client in again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_networks(value: str | None) -> tuple[Network, ...]:
    """``HUCHU_TRUSTED_PROXIES``: comma-separated addresses or CIDRs; unset or empty is none."""
    networks = []
    for item in filter(None, (i.strip() for i in (value or "").split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"HUCHU_TRUSTED_PROXIES: {item!r} is not an address") from exc
    return tuple(networks)


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The peer, or, when the peer is a trusted proxy, the nearest untrusted hop it forwarded.

    The chain is read from the right: each trusted proxy appends the address it saw, so the
    first untrusted entry from the right is the one no client can forge.
    """
    if not peer:
        return "?"
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


class RateLimiter:
    """Per-client sliding window of one minute, in a map that forgets past ``max_clients``."""

    def __init__(
        self,
        per_minute: int,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self.clock = clock
        # A packed array per client (8 bytes a call): a deque's first block alone is ~600 bytes.
        self.seen: OrderedDict[str, array[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> None:
        """Count one call; ``Throttled`` when the client spent its minute."""
        self._count(client, record=True)

    def check(self, client: str) -> None:
        """``Throttled`` when the client spent its minute; counts nothing."""
        self._count(client, record=False)

    def _count(self, client: str, record: bool) -> None:
        if self.per_minute <= 0:
            return
        now = self.clock()
        with self._lock:
            self._forget_idle(now)
            window = self.seen.pop(client, None) or array("d")
            del window[: bisect.bisect_right(window, now - WINDOW_SECONDS)]
            self.seen[client] = window  # most recently seen last
            if len(window) >= self.per_minute:
                wait = max(1, math.ceil(WINDOW_SECONDS - (now - window[0])))
                raise Throttled(f"too many calls; retry in {wait} s", wait)
            if record:
                window.append(now)
            while len(self.seen) > self.max_clients:
                self.seen.popitem(last=False)

    def _forget_idle(self, now: float) -> None:
        """Drops clients whose last call left the window (the least recent come first)."""
        while self.seen:
            oldest = next(iter(self.seen.values()))
            if oldest and now - oldest[-1] < WINDOW_SECONDS:
                return
            self.seen.popitem(last=False)
