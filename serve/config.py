"""Regenerate ``serve/config.yaml`` with ``serve build``: ``python -m serve.config [--check]``.

``serve build`` writes the deployments' options from ``build_app``'s defaults; the
application is then named ``huchu`` and pointed at the builder, so ``args:`` work.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

CONFIG = Path(__file__).with_name("config.yaml")
ROOT = CONFIG.parent.parent


def generate() -> str:
    """The config text ``serve build`` gives for the builder's defaults."""
    serve_cli = Path(sys.executable).with_name("serve")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "config.yaml"
        subprocess.run(
            [str(serve_cli), "build", "serve.app:default_app", "-d", str(ROOT), "-o", str(out)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        header, _, body = out.read_text().partition("\n\n")
    config = yaml.safe_load(body)
    (app,) = config["applications"]
    app.update(name="huchu", import_path="serve.app:build_app", args={})
    ordered = {k: app[k] for k in ("name", "route_prefix", "import_path", "args")}
    config["applications"] = [ordered | app]
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False, width=80, indent=2)
    return f"{header}\n# Then `python -m serve.config`: name, builder import path, args.\n\n{text}"


def main() -> int:
    fresh = generate()
    if "--check" in sys.argv[1:]:
        current = CONFIG.read_text() if CONFIG.is_file() else ""
        if current != fresh:
            print(f"{CONFIG} is stale: run `python -m serve.config`", file=sys.stderr)
            return 1
        return 0
    CONFIG.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
