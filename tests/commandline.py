"""Run the installed ``huchu`` command the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def huchu(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "huchu"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
