"""The ``huchu`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from huchu.config import Settings
from huchu.errors import CliError, HuchuError

__all__ = ["CliError", "main", "print_json"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except (CliError, HuchuError, ValueError, OSError) as exc:
        message = exc.message if isinstance(exc, HuchuError) else str(exc)
        print(f"huchu: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("huchu: interrupted", file=sys.stderr)
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    try:
        settings = Settings()
        if getattr(args, "data_dir", None):
            settings = settings.model_copy(update={"data_dir": Path(args.data_dir)})
        return settings
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HUCHU_" + str(first["loc"][0]).upper() if first.get("loc") else "HUCHU_*"
        raise CliError(f"bad configuration: {name}: {first['msg']}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="huchu", description="Find the face that represents us.")
    sub = p.add_subparsers(dest="command")

    s = sub.add_parser("serve", help="run the embedded app (API, web page, scheduler)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--data-dir")
    s.add_argument("--workers", type=int, default=0, help="analysis processes (0: one per core)")
    s.set_defaults(handler=_lazy("cli.commands.serve", "run"))

    a = sub.add_parser("analyze", help="find faces in images and print one JSON line per image")
    a.add_argument("images", nargs="+", type=Path)
    a.add_argument("--json", action="store_true", help="JSON lines (the only output format)")
    a.add_argument("--embedding", action="store_true", help="include each face's stored embedding")
    a.set_defaults(handler=_lazy("cli.commands.analyze", "run"))

    i = sub.add_parser("ingest", help="upload a folder of photos (resumable)")
    i.add_argument("directory", type=Path)
    i.add_argument("--event", default="default")
    i.add_argument("--data-dir")
    i.add_argument("--consent", action="store_true", default=True, help=argparse.SUPPRESS)
    i.set_defaults(handler=_lazy("cli.commands.ingest", "run"))

    r = sub.add_parser("recompute", help="recompute averages, leaderboard and graph now")
    r.add_argument("--event", default="default")
    r.add_argument("--data-dir")
    r.set_defaults(handler=_lazy("cli.commands.recompute", "run"))

    m = sub.add_parser("models", help="model files: list, check, pull")
    m.add_argument("action", choices=["list", "check", "pull"])
    m.set_defaults(handler=_lazy("cli.commands.models", "run"))

    d = sub.add_parser(
        "doctor", help="engine, models, stores and inference backend, each ok/problem"
    )
    d.add_argument("--data-dir")
    d.set_defaults(handler=_lazy("cli.commands.doctor", "run"))

    f = sub.add_parser("frontend", help="build or publish the static web site")
    f.add_argument("action", choices=["build", "publish"])
    f.add_argument("--api-url", default="")
    f.add_argument("--out", type=Path, default=Path("site"))
    f.add_argument(
        "--distribution",
        help="CloudFront distribution to invalidate after publish (or HUCHU_SITE_DISTRIBUTION)",
    )
    f.set_defaults(handler=_lazy("cli.commands.frontend", "run"))
    return p


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """Import a command only when it runs, so ``huchu --help`` stays instant."""

    def call(args: argparse.Namespace) -> int:
        import importlib

        fn: Callable[[argparse.Namespace, Settings], int] = getattr(
            importlib.import_module(module), name
        )
        return fn(args, _settings(args))

    return call


def print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
