"""Build a shard's HNSW index, or rewrite it from its live points, in a child process;
then swap the result in.

Qdrant Edge's ``optimize()`` keeps the interpreter (the GIL) for the whole build: measured
13 s for 20,000 128-d points here, during which no other thread of the server runs. So the
background build works on a copy: the copy is made under the shard's lock (a few hundred
ms of file copying), a child process optimizes it, and the writes that arrived meanwhile
(kept in a journal) are replayed onto it before it replaces the live folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huchu.stores.edge import _Shard

_CHILD = (
    "import sys, qdrant_edge as qe\n"
    "s = qe.EdgeShard.load(sys.argv[1])\n"
    "s.optimize()\n"
    "s.flush()\n"
    "s.close()\n"
)


_COMPACT_CHILD = (
    "import sys, qdrant_edge as qe\n"
    "from pathlib import Path\n"
    "from huchu.stores.edge import copy_live\n"
    "src = qe.EdgeShard.load(sys.argv[1])\n"
    "try:\n"
    "    copy_live(src, Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) or None)\n"
    "finally:\n"
    "    src.close()\n"
)


def rewrite_aside(s: _Shard, indexing_kb: int | None, timeout: float = 3600.0) -> None:
    """Replace the shard by one holding only its live points, built by a child process
    from a copy (the bindings hold the interpreter while they work: in this process,
    every request waited for the rewrite). The copy, which still holds the deleted
    points' bytes, and the old folder are removed before this returns; writes made
    meanwhile are replayed onto the new shard, and a delete among them leaves the shard
    marked for the next rewrite."""
    import qdrant_edge as qe

    from huchu.stores.edge import shard_dim

    live = s.path
    copy = live.with_name(live.name + ".copy")
    fresh = live.with_name(live.name + ".compacting")
    old = live.with_name(live.name + ".old")
    with s.lock:
        if s.optimizing is not None or s.rewriting:
            return  # an index build is working on a copy: the next compact() rewrites it
        s.rewriting = True  # from here no index build starts on this shard
    try:
        with _journaled_copy(s, copy, fresh, old) as deletes:
            _child(_COMPACT_CHILD, timeout, copy, fresh, shard_dim(copy), indexing_kb or 0)
            with s.lock:
                _swap(s, fresh, old, qe)
                if s.deletes == deletes:
                    s.deleted = False
                s.unindexed = int(s.shard.info().points_count)
    finally:
        with s.lock:
            s.rewriting = False


def optimize_aside(s: _Shard, timeout: float = 3600.0) -> None:
    """Optimize ``s`` out of process; the live shard serves reads and writes meanwhile."""
    import qdrant_edge as qe

    live = s.path
    aside = live.with_name(live.name + ".optimizing")
    old = live.with_name(live.name + ".old")
    with _journaled_copy(s, aside, old):
        _child(_CHILD, timeout, aside)
        with s.lock:
            _swap(s, aside, old, qe)


@contextmanager
def _journaled_copy(s: _Shard, copy: Path, *scratch: Path) -> Iterator[int]:
    """Copy the live folder to ``copy`` under the shard's lock and journal every write from
    then on (``_swap`` replays the journal); yields how many deletes the shard had seen at
    the copy. Whatever happens, the journal ends and ``copy`` and ``scratch`` are removed
    (left by a crash, they are removed first: the live folder is the truth)."""
    folders = (copy, *scratch)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    with s.lock:
        s.shard.flush()
        shutil.copytree(s.path, copy)
        s.journal = []
        deletes = s.deletes
    try:
        yield deletes
    finally:
        with s.lock:
            s.journal = None
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _child(script: str, timeout: float, *args: object) -> None:
    """Run ``script`` in a child interpreter (raises if it fails or runs past ``timeout``)."""
    subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        check=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


def _swap(s: _Shard, aside: Path, old: Path, qe: Any) -> None:
    """Replace the live folder by the optimized copy plus the journal, or keep it whole."""
    live = s.path
    fresh = qe.EdgeShard.load(str(aside))
    try:
        for op in s.journal or []:
            fresh.update(op)
        fresh.flush()
    finally:
        fresh.close()
    s.shard.close()
    live.rename(old)
    try:
        aside.rename(live)
        s.shard = qe.EdgeShard.load(str(live))
    except BaseException:
        if old.exists():  # put the untouched live folder back
            shutil.rmtree(live, ignore_errors=True)
            old.rename(live)
        s.shard = qe.EdgeShard.load(str(live))
        raise
