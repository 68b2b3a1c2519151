"""The fault suite: kill -9 mid-burst and mid-recompute, a full disk, inference gone.

Each round ends with the consistency check: every listed photo has its files and vectors,
none is half-stored, the averages count the stored faces, no temporary file and no
process is left. The figures printed here are the ones in docs/reliability.md.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from functions.wiring import build_context
from huchu.config import Settings
from huchu.stores.falkordb_server import EmbeddedFalkorDB
from tests.functions.conftest import ADMIN
from tests.functions.test_shutdown import alive, descendants
from tests.servers import free_port, huchu_serve, wait_healthy

AUTH = {"Authorization": f"Bearer {ADMIN}"}
MIN_FREE = 64 * 1024 * 1024  # HUCHU_MIN_FREE_BYTES, the margin uploads keep free
PHOTOS = ("obama.jpg", "biden.jpg", "t1.jpg", "astronaut.png", "obama2.jpg", "Tom_Hanks_54745.png")


@dataclass
class Tally:
    requests: int = 0
    faults: int = 0
    acknowledged: list[str] = field(default_factory=list)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    output: Path

    def log(self) -> str:
        return self.output.read_text(errors="replace")[-3000:]

    def crash(self) -> set[int]:
        """kill -9 of the server and everything it started (as a machine crash would)."""
        family = descendants(self.process.pid) | {self.process.pid}
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        return family


@contextmanager
def serving(data: Path, **env: str) -> Iterator[Server]:
    port = free_port()
    output = data.parent / f"serve-{port}.log"
    data.parent.mkdir(parents=True, exist_ok=True)
    server = huchu_serve(
        data,
        port,
        "--workers",
        "2",
        env={
            "HUCHU_ADMIN_TOKEN": ADMIN,
            "HUCHU_RECOMPUTE_SECONDS": "0",
            "HUCHU_RATE_LIMIT_PER_MINUTE": "0",
            "HUCHU_ENGINE": "dlib",
            **env,
        },
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url):
            raise RuntimeError(f"huchu serve did not start: {output.read_text()[-2000:]}")
        yield Server(server, url, output)
    finally:
        if server.poll() is None:
            family = descendants(server.pid)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            deadline = time.monotonic() + 20
            while any(alive(p) for p in family) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert [p for p in family if alive(p)] == [], "orphans after SIGTERM"


def post_photo(url: str, name: str, data: bytes, tally: Tally) -> httpx.Response | None:
    tally.requests += 1
    try:
        r = httpx.post(
            f"{url}/api/photos",
            files={"file": (name, data, "image/jpeg")},
            data={"consent": "true"},
            timeout=120,
        )
    except httpx.HTTPError:
        return None
    if r.status_code == 201:
        tally.acknowledged.append(r.json()["photo_id"])
    return r


def consistent(data: Path) -> dict[str, int]:
    """The data dir, opened after the server stopped: everything whole, nothing stray."""
    ctx = build_context(Settings(data_dir=data, engine="dlib"))
    try:
        photos = {p.id: p.payload for p in ctx.vectors.scroll(ctx.photos, {}, 10_000)[0]}
        faces = {f.id: f.payload for f in ctx.vectors.scroll(ctx.faces, {}, 10_000)[0]}
        keys = set(ctx.objects.list(""))
        for pid, p in photos.items():
            assert not p.get("deleting"), pid
            wanted = [p["image_key"], p["annotated_key"]]
            wanted += [f["portrait_key"] for f in p["faces"] if f.get("portrait_key")]
            assert set(wanted) <= keys, f"photo {pid} misses files"
            accepted = {f["face_id"] for f in p["faces"] if f.get("face_id")}
            assert accepted <= set(faces), f"photo {pid} misses face vectors"
        assert all(f["photo_id"] in photos for f in faces.values()), "faces without a photo"
        owned = {k for k in keys if "/photos/" in k and k.split("/")[3] in photos}
        assert {k for k in keys if "/photos/" in k} == owned, "files without a photo"
        assert list(data.rglob(".tmp-*")) == [], "temporary files left"
        return {"photos": len(photos), "faces": len(faces)}
    finally:
        ctx.close()


def averages_count(url: str) -> int:
    body = httpx.post(f"{url}/api/averages/recompute", headers=AUTH, timeout=300).json()
    return next((c["count"] for c in body["cohorts"] if c["cohort"] == "all"), 0)


@pytest.mark.slow
def test_kill_9_during_an_upload_burst_loses_no_acknowledged_upload(
    tmp_path: Path, photos: dict[str, bytes]
) -> None:
    data, tally = tmp_path / "data", Tally()
    with serving(data) as server:
        pool = cf.ThreadPoolExecutor(4)
        futures = [
            pool.submit(post_photo, server.url, name, photos[name], tally) for name in PHOTOS * 3
        ]
        deadline = time.monotonic() + 180
        while len(tally.acknowledged) < 4:
            assert time.monotonic() < deadline, f"uploads not acknowledged: {server.log()}"
            assert not all(f.done() for f in futures), f"every upload failed: {server.log()}"
            time.sleep(0.05)
        family = server.crash()
        tally.faults += 1
        pool.shutdown(wait=True)
        assert all(f.done() for f in futures)
    assert [p for p in family if alive(p)] == [], "orphans after kill -9"
    with serving(data) as server:
        for photo_id in tally.acknowledged:
            r = httpx.get(f"{server.url}/api/photos/{photo_id}")
            assert r.status_code == 200, f"acknowledged upload {photo_id} lost"
        faces = consistent_live(server.url)
        assert averages_count(server.url) == faces
    state = consistent(data)
    print(
        f"\nupload burst: {tally.requests} requests, {tally.faults} kill -9, "
        f"{len(tally.acknowledged)} acknowledged, 0 lost, {state}"
    )


def consistent_live(url: str) -> int:
    """Faces the running server lists (every page)."""
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = httpx.get(f"{url}/api/faces", params=params).json()
        count += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return count


@pytest.mark.slow
def test_kill_9_during_a_recompute_keeps_a_complete_version(
    tmp_path: Path, photos: dict[str, bytes]
) -> None:
    data, tally = tmp_path / "data", Tally()
    with serving(data) as server:
        for name in PHOTOS:
            post_photo(server.url, name, photos[name], tally)
        first = averages_count(server.url)
        for name in PHOTOS[:3]:
            post_photo(server.url, name, photos[name], tally)
        pool = cf.ThreadPoolExecutor(1)
        pool.submit(averages_count, server.url)
        time.sleep(0.4)  # inside the fold or the drawing
        server.crash()
        tally.faults += 1
        pool.shutdown(wait=True)
    with serving(data) as server:
        current = httpx.get(f"{server.url}/api/averages").json()
        assert current["version"] >= 1
        for cohort in current["cohorts"]:  # the current version is complete
            url = cohort["image_url"]
            image = httpx.get(url if url.startswith("http") else f"{server.url}{url}")
            assert image.status_code == 200
        faces = consistent_live(server.url)
        assert averages_count(server.url) == faces >= first
    state = consistent(data)
    print(
        f"\nrecompute: {tally.requests} requests, {tally.faults} kill -9, "
        f"{len(tally.acknowledged)} acknowledged, 0 lost, {state}"
    )


def test_a_full_disk_refuses_uploads_whole(tmp_path: Path, photos: dict[str, bytes]) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    # The vector shard preallocates its index files (on tmpfs they take real room).
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(disk)]).returncode:
        pytest.skip("mounting a tmpfs needs root")
    tally = Tally()
    try:
        with serving(disk / "data", HUCHU_MIN_FREE_BYTES=str(MIN_FREE)) as server:
            # The first photo makes the databases' files; then room for a few more only.
            assert post_photo(server.url, "t1.jpg", photos["t1.jpg"], tally) is not None
            with open(disk / "ballast", "wb") as f:
                while shutil.disk_usage(disk).free > MIN_FREE + 2_500_000:
                    f.write(b"\0" * 262_144)
                    f.flush()
            codes = []
            for name in PHOTOS * 4:
                r = post_photo(server.url, name, photos[name], tally)
                codes.append(r.status_code if r is not None else 0)
                if codes[-1] == 503:
                    tally.faults += 1
            assert 503 in codes and 201 in codes, codes
            ready = httpx.get(f"{server.url}/readyz")
            assert ready.status_code == 503 and "nearly full" in ready.text
            for photo_id in tally.acknowledged:
                assert httpx.get(f"{server.url}/api/photos/{photo_id}").status_code == 200
        (disk / "ballast").unlink()  # space again, as an operator would make it
        state = consistent(disk / "data")  # also: no temporary file left
        print(
            f"\nfull disk: {tally.requests} requests, {tally.faults} refused with 503, "
            f"{len(tally.acknowledged)} acknowledged, 0 lost, {state}"
        )
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def test_inference_gone_refuses_uploads_and_keeps_browsing(
    tmp_path: Path, photos: dict[str, bytes]
) -> None:
    data = tmp_path / "data"
    with serving(data) as server:  # in-process inference: store two photos first
        assert post_photo(server.url, "obama.jpg", photos["obama.jpg"], Tally()) is not None
        averages_count(server.url)
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with serving(data, HUCHU_INFERENCE_URL=gone) as server:
        r = post_photo(server.url, "biden.jpg", photos["biden.jpg"], Tally())
        assert r is not None and (r.status_code, r.json()["error"]["code"]) == (503, "unavailable")
        assert httpx.get(f"{server.url}/api/faces").status_code == 200
        assert httpx.get(f"{server.url}/api/averages").status_code == 200
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503 and "inference" in ready.text
        assert averages_count(server.url) == 1
    assert consistent(data) == {"photos": 1, "faces": 1}


def graph_pids(server: Server) -> set[int]:
    """The embedded FalkorDB below the server (alive or a zombie)."""
    found = set()
    for pid in descendants(server.process.pid):
        try:
            if b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def until(check: Callable[[], bool], seconds: float, every: float = 0.1) -> float | None:
    """Seconds until ``check`` held, or None once the deadline passed."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(every)
    return None


def answers(url: str, code: int = 200) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=15).status_code == code
        except httpx.HTTPError:
            return False

    return check


def live_faces(url: str) -> set[str]:
    ids, cursor = set(), None
    while True:
        params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = httpx.get(f"{url}/api/faces", params=params).json()
        ids |= {f["face_id"] for f in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def graph_faces(url: str) -> set[str]:
    return {n["id"] for n in httpx.get(f"{url}/api/graph", timeout=60).json()["nodes"]}


def first_face(body: dict[str, Any]) -> str:
    return str(next(f["face_id"] for f in body["faces"] if f.get("face_id")))


@dataclass
class Outage:
    """What a graph outage did, measured from the moment the graph went away."""

    upload_back_s: float | None = None
    family_back_s: float | None = None
    during: dict[str, int] = field(default_factory=dict)


def burst_through_an_outage(
    server: Server, photos: dict[str, bytes], away: Callable[[], None], back: Callable[[], None]
) -> tuple[Tally, Outage, str]:
    """Uploads at concurrency 4; the graph goes away after 2 acknowledgements; fresh
    uploads, a delete and the graph routes are tried while it is away; then it comes back."""
    tally, outage = Tally(), Outage()
    pool = cf.ThreadPoolExecutor(4)
    futures = [
        pool.submit(post_photo, server.url, name, photos[name], tally) for name in PHOTOS * 2
    ]
    assert until(lambda: len(tally.acknowledged) >= 2, 180), server.log()
    away()
    went = time.monotonic()
    r = post_photo(server.url, "obama.jpg", photos["obama.jpg"], tally)
    assert r is not None and r.status_code == 201, r.text if r is not None else server.log()
    outage.upload_back_s = time.monotonic() - went
    body = r.json()
    face = first_face(body)
    outage.during["family"] = httpx.get(f"{server.url}/api/faces/{face}/family").status_code
    ready = httpx.get(f"{server.url}/readyz").json()
    outage.during["readyz_serving"] = int(ready.get("serving", False))
    outage.during["readyz_names_graph"] = int(any(m.startswith("graph") for m in ready["missing"]))
    victim = post_photo(server.url, "biden.jpg", photos["biden.jpg"], tally)
    assert victim is not None and victim.status_code == 201
    gone = victim.json()
    tally.acknowledged.remove(gone["photo_id"])
    outage.during["delete"] = httpx.delete(
        f"{server.url}/api/photos/{gone['photo_id']}",
        headers={"X-Huchu-Owner": gone["owner_token"]},
    ).status_code
    outage.during["faces"] = httpx.get(f"{server.url}/api/faces").status_code
    back()
    if until(answers(f"{server.url}/api/faces/{face}/family"), 30) is not None:
        outage.family_back_s = time.monotonic() - went
    pool.shutdown(wait=True)
    assert all(f.done() for f in futures)
    return tally, outage, first_face(gone)


def check_after_outage(server: Server, tally: Tally, dead: str) -> dict[str, int]:
    for photo_id in tally.acknowledged:
        r = httpx.get(f"{server.url}/api/photos/{photo_id}")
        assert r.status_code == 200, f"acknowledged upload {photo_id} lost"
    assert dead not in httpx.get(f"{server.url}/api/graph").text  # before any recompute
    faces = live_faces(server.url)
    assert averages_count(server.url) == len(faces)
    in_graph = graph_faces(server.url)
    assert in_graph == faces, (faces - in_graph, in_graph - faces)
    return {"faces": len(faces)}


@pytest.mark.slow
def test_kill_9_of_the_embedded_graph_during_an_upload_burst(
    tmp_path: Path, photos: dict[str, bytes]
) -> None:
    """The server's own FalkorDB killed mid-burst: nothing acknowledged is lost, uploads
    and deletes go on, the graph routes answer 503 and then 200 again without a restart
    of the server, the dead child is reaped, and the next recompute puts exactly the live
    faces in the graph."""
    data = tmp_path / "data"
    with serving(data) as server:
        (first,) = graph_pids(server)
        tally, outage, dead = burst_through_an_outage(
            server, photos, lambda: os.kill(first, signal.SIGKILL), lambda: None
        )
        assert not Path(f"/proc/{first}").exists(), "the killed FalkorDB is a zombie"
        assert len(graph_pids(server)) == 1 and first not in graph_pids(server)
        assert outage.upload_back_s is not None and outage.upload_back_s < 10
        assert outage.family_back_s is not None and outage.family_back_s < 30, server.log()
        assert outage.during["delete"] == 204 and outage.during["faces"] == 200
        state = check_after_outage(server, tally, dead)
    print(
        f"\nembedded graph kill -9: {tally.requests} uploads, {len(tally.acknowledged)} "
        f"acknowledged, 0 lost; upload accepted {outage.upload_back_s:.2f} s and family "
        f"200 {outage.family_back_s:.2f} s after the kill; during: {outage.during}; {state}"
    )


@pytest.mark.slow
def test_a_graph_server_stopped_and_started_again(tmp_path: Path, photos: dict[str, bytes]) -> None:
    """``HUCHU_GRAPH_URL`` at a FalkorDB server that stops (SIGTERM) during a burst and
    starts again on its files a few seconds later."""
    folder = Path(tempfile.mkdtemp(prefix="hg-"))  # short: the socket path stays the same
    graph = EmbeddedFalkorDB(folder)
    url = graph.start()
    try:

        def away() -> None:
            graph.stop()

        def back() -> None:
            time.sleep(3)  # long enough for the requests above to see it away
            assert graph.start() == url

        with serving(tmp_path / "data", HUCHU_GRAPH_URL=url) as server:
            tally, outage, dead = burst_through_an_outage(server, photos, away, back)
            assert outage.during == {
                "family": 503,
                "readyz_serving": 1,
                "readyz_names_graph": 1,
                "delete": 204,
                "faces": 200,
            }
            assert outage.upload_back_s is not None and outage.upload_back_s < 10
            assert outage.family_back_s is not None and outage.family_back_s < 30
            state = check_after_outage(server, tally, dead)
    finally:
        graph.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\ngraph server stopped for 3 s: {tally.requests} uploads, {len(tally.acknowledged)} "
        f"acknowledged, 0 lost; upload accepted {outage.upload_back_s:.2f} s after the stop, "
        f"family 200 {outage.family_back_s:.2f} s after; during: {outage.during}; {state}"
    )


def spawned(server: Server) -> set[int]:
    """The server's multiprocessing children (analysis workers, the offload process),
    without the resource tracker."""
    found = set()
    for pid in descendants(server.process.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd and alive(pid):
            found.add(pid)
    return found


@pytest.mark.slow
def test_kill_9_of_an_analysis_worker_and_of_the_offload_process(
    tmp_path: Path, photos: dict[str, bytes]
) -> None:
    """The analysis pool and the recompute's offload process, each killed: the request
    that used them answers 503 at worst, the next ones are served by fresh processes,
    and the killed ones are reaped."""
    data, tally = tmp_path / "data", Tally()
    with serving(data) as server:
        assert post_photo(server.url, "obama.jpg", photos["obama.jpg"], tally) is not None
        workers = spawned(server)
        assert workers, "no analysis worker"
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        codes = []
        for name in PHOTOS[1:4]:
            r = post_photo(server.url, name, photos[name], tally)
            codes.append(r.status_code if r is not None else 0)
        assert codes[-1] == 201 and set(codes) <= {201, 503}, codes
        assert until(lambda: not alive(victim), 10) is not None, "the killed worker is a zombie"
        assert len(spawned(server) - workers) >= 1  # a fresh pool
        analysis = spawned(server)

        pool = cf.ThreadPoolExecutor(1)
        first = pool.submit(
            httpx.post, f"{server.url}/api/averages/recompute", headers=AUTH, timeout=300
        )
        assert until(lambda: len(spawned(server) - analysis) == 1, 60, 0.02) is not None
        (aside,) = spawned(server) - analysis
        os.kill(aside, signal.SIGKILL)
        answer = first.result()
        pool.shutdown()
        assert answer.status_code in (200, 503), answer.text
        assert until(lambda: not alive(aside), 10) is not None, "the offload process is a zombie"
        assert averages_count(server.url) == consistent_live(server.url)  # a fresh one drew it
        assert aside not in spawned(server)
    state = consistent(data)
    print(
        f"\nworker kill -9: uploads after it {codes}; offload kill -9: recompute "
        f"{answer.status_code}, the next 200; {len(tally.acknowledged)} acknowledged, "
        f"0 lost, {state}"
    )
