"""``huchu doctor``: what is in use, each with ok or a problem."""

from __future__ import annotations

import argparse

from functions.wiring import build_context
from huchu.config import Settings
from huchu.engines.factory import resolve_engine_name
from huchu.health import diagnose


def run(args: argparse.Namespace, settings: Settings) -> int:
    resolved = resolve_engine_name(settings.engine, settings.models_dir)
    print(f"engine setting: {settings.engine} -> {resolved}")
    ctx = build_context(settings)
    try:
        checks = diagnose(ctx, deep=True)
    finally:
        ctx.close()
    for check in checks:
        print(f"{check.name:10} {'ok' if check.ok else 'problem':8} {check.detail}")
    return 0 if all(c.ok for c in checks) else 1
