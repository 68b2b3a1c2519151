"""``huchu models list|check|pull``."""

from __future__ import annotations

import argparse

from huchu import models
from huchu.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "list":
        for m in models.load_manifest():
            where = f"wheel {m.package}" if m.package else str(settings.models_dir / m.file)
            print(f"{m.name:24} {m.engine:12} {where}\n{'':24} licence: {m.licence}")
        return 0
    if args.action == "pull":
        try:
            statuses = models.pull(settings.models_dir)
        except OSError as exc:
            raise OSError(f"download failed ({exc}); is the internet reachable?") from None
    else:
        statuses = models.check(settings.models_dir)
    bad = False
    for s in statuses:
        print(f"{s.model.name:24} {s.state:20} {s.path}")
        bad |= s.verified is False or (s.model.engine == "dlib" and not s.present)
    return 1 if bad else 0
