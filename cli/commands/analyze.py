"""``huchu analyze IMAGE... --json [--embedding]``."""

from __future__ import annotations

import argparse
import sys

from cli.main import CliError, print_json
from huchu.analysis import EngineSpec, analyze_with
from huchu.config import Settings
from huchu.errors import HuchuError
from huchu.schemas import Analyzed, AnalyzedFace


def run(args: argparse.Namespace, settings: Settings) -> int:
    missing = [str(p) for p in args.images if not p.is_file()]
    if missing:
        raise CliError(f"no such file: {missing[0]}")
    spec = EngineSpec.from_settings(settings)
    engine = spec.build()
    status = 0
    for path in args.images:
        try:
            result = analyze_with(engine, spec, path.read_bytes())
        except HuchuError as exc:
            print(f"huchu: {path}: {exc.code}: {exc.message}", file=sys.stderr)
            print_json({"file": str(path)} | exc.body())
            status = 1
            continue
        line = Analyzed(
            file=str(path),
            engine=result.engine.engine,
            width=result.width,
            height=result.height,
            faces=[
                AnalyzedFace.model_validate(f.to_json(with_embedding=args.embedding))
                for f in result.faces
            ],
        )
        exclude = None if args.embedding else {"faces": {"__all__": {"embedding"}}}
        print_json(line.model_dump(mode="json", exclude=exclude))
    return status
