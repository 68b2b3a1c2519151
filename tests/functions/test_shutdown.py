"""``huchu serve`` ends with everything it started: workers and the resource tracker."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, huchu_serve, wait_healthy


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren, ...), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_its_workers_and_tracker(
    tmp_path: Path, photos: dict[str, bytes], sig: signal.Signals
) -> None:
    port = free_port()
    server = huchu_serve(
        tmp_path / "data",
        port,
        "--workers",
        "2",
        env={"HUCHU_RECOMPUTE_SECONDS": "0", "HUCHU_ENGINE": "dlib"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_healthy(base), "huchu serve did not start"
        r = httpx.post(
            f"{base}/api/photos",
            files={"file": ("t1.jpg", photos["t1.jpg"], "image/jpeg")},
            data={"consent": "true"},
            timeout=120,
        )
        assert r.status_code == 201, r.text
        started = descendants(server.pid)
        assert len(started) >= 2  # the analysis workers (and the tracker) are running
        server.send_signal(sig)
        assert server.wait(timeout=60) == 0
        deadline = time.monotonic() + 20
        while any(alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in started if alive(p)] == []
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
