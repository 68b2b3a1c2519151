"""Waiting for something that happens in another process or thread."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(check: Callable[[], bool], seconds: float, every: float = 0.1) -> bool:
    """Whether ``check`` holds within ``seconds`` (asked every ``every`` s, once more at the end)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()
