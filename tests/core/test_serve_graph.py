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
from tests.waiting import eventually


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


def test_serve_starts_its_graph_again_after_kill_9(tmp_path: Path) -> None:
    """The embedded FalkorDB killed under a running ``huchu serve``: reaped (no zombie),
    started again on the same files, named healthy by /readyz again; SIGTERM still ends
    the server and the new FalkorDB."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--data-dir",
         str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HUCHU_ENGINE": "dlib", "HUCHU_RECOMPUTE_SECONDS": "0"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/readyz"
    second = None
    try:
        assert eventually(lambda: _ready(url), 120), "huchu serve did not become ready"
        first = _graph_pid(proc.pid)
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert eventually(lambda: _graph_pid(proc.pid) not in (None, first), 30)
        second = _graph_pid(proc.pid)
        assert not Path(f"/proc/{first}").exists(), "the killed FalkorDB is a zombie"
        assert eventually(lambda: _ready(url), 30), "the graph did not come back"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "starting it again" in out
    assert second is not None and not pid_alive(second)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


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
