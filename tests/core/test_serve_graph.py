"""``huchu serve`` starts its own FalkorDB and leaves no process behind when stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import free_port
from tests.stores.conftest import pid_alive


def test_serve_starts_and_stops_the_graph(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HUCHU_ENGINE": "dlib", "HUCHU_RECOMPUTE_SECONDS": "0"},
    )
    try:
        ready = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert ready is not None, proc.stdout.read() if proc.stdout else ""
        body = ready.json()
        assert "graph" not in body["missing"], body
        assert "falkordb embedded" in body["checks"]["graph"]
        assert (data / "graph" / "url").exists()
        server = _graph_pid(proc.pid)
        assert server is not None and pid_alive(server)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert not pid_alive(server)
    assert not (data / "graph" / "url").exists()


def _graph_pid(parent: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().split()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[3]) == parent and b"redis-server" in cmd:
            return int(entry.name)
    return None
