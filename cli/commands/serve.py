"""``huchu serve``: the embedded app in one process."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from types import FrameType

from huchu.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from functions import server
    from functions.embedded import create_embedded_app
    from functions.wiring import build_context

    workers = args.workers or min(os.cpu_count() or 1, 4)
    ctx = build_context(settings, workers=workers)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again; with the
    # default handler that would kill this process before the workers are stopped.
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        # The graph database first, from this (main) thread: an embedded FalkorDB started
        # here stops with ctx.close() below, and with this process if it is killed.
        ctx.graph.ping()
        app = create_embedded_app(ctx, site_dir=_site(settings))
        graph = settings.graph_url or f"embedded FalkorDB in {settings.data_dir}/graph"
        print(
            f"huchu: serving http://{args.host}:{args.port} (data in {settings.data_dir}, "
            f"engine {ctx.info.engine}, {workers} analysis workers, graph {graph})"
        )
        uvicorn.Server(server.config(app, args.host, args.port, log_level="warning")).run()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        ctx.close()  # analysis workers, the resource tracker, the stores
        signal.signal(signal.SIGTERM, previous)
    return 0


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _site(settings: Settings) -> Path | None:
    from frontend.build import build_site

    out = Path(settings.data_dir) / "site"
    try:
        build_site(out, api_url="")
    except (RuntimeError, OSError) as exc:
        print(f"huchu: web page not built ({exc}); the API still runs")
        return None
    return out
