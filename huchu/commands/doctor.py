"""``huchu doctor``: what is in use, each with ok or a problem."""

from __future__ import annotations

import argparse

from huchu.config import Settings
from huchu.engines.factory import resolve_engine_name


def run(args: argparse.Namespace, settings: Settings) -> int:
    from huchu.health import diagnose

    problems = 0
    resolved = resolve_engine_name(settings.engine, settings.models_dir)
    print(f"engine setting: {settings.engine} -> {resolved}")
    for check in diagnose(settings):
        mark = "ok" if check.ok else "problem"
        problems += 0 if check.ok else 1
        print(f"{check.name:10} {mark:8} {check.detail}")
    return 1 if problems else 0
