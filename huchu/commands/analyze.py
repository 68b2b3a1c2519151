"""``huchu analyze IMAGE... --json [--embedding]``."""

from __future__ import annotations

import argparse
import sys

from huchu.analysis import analyze_bytes
from huchu.cli import CliError, print_json
from huchu.config import Settings
from huchu.engines.factory import build_engine
from huchu.errors import HuchuError


def run(args: argparse.Namespace, settings: Settings) -> int:
    missing = [str(p) for p in args.images if not p.is_file()]
    if missing:
        raise CliError(f"no such file: {missing[0]}")
    engine = build_engine(settings.engine, settings.models_dir)
    status = 0
    for path in args.images:
        try:
            result = analyze_bytes(
                engine,
                path.read_bytes(),
                max_side=settings.analysis_max_side,
                min_score=settings.min_det_score,
                max_pixels=settings.max_image_pixels,
            )
        except HuchuError as exc:
            print(f"huchu: {path}: {exc.code}: {exc.message}", file=sys.stderr)
            print_json({"file": str(path), "error": {"code": exc.code, "message": exc.message}})
            status = 1
            continue
        print_json(
            {
                "file": str(path),
                "engine": result.engine.engine,
                "width": result.width,
                "height": result.height,
                "faces": [f.to_json(with_embedding=args.embedding) for f in result.faces],
            }
        )
    return status
