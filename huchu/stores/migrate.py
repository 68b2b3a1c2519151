"""Move a data dir left by Qdrant local mode into Qdrant Edge shards, once."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from huchu.errors import Unavailable
from huchu.stores.edge import EdgeStore
from huchu.stores.vectors import Point

PAGE = 512


def local_mode_dir(data_dir: Path) -> Path | None:
    """The folder Qdrant local mode left in the data dir, if any."""
    old = Path(data_dir) / "qdrant"
    return old if (old / "collection").is_dir() else None


def migrate_local_mode(old: Path, edge: EdgeStore, progress: bool = True) -> dict[str, int]:
    """Copy every collection (vectors and payloads) into ``edge``, check the counts, then
    remove the old folder: a deleted face must not live on in a forgotten copy."""
    from qdrant_client import QdrantClient
    from tqdm import tqdm

    try:
        client = QdrantClient(path=str(old))
    except Exception as exc:  # locked by another process, or unreadable
        raise Unavailable(
            f"cannot migrate {old} (left by Qdrant local mode) into Qdrant Edge: {exc}; "
            "stop any other Huchu process on this data dir, or move the folder away"
        ) from exc
    moved: dict[str, int] = {}
    try:
        for c in client.get_collections().collections:
            params = client.get_collection(c.name).config.params.vectors
            dim = int(params.size)  # type: ignore[union-attr]  # Huchu uses one unnamed vector
            total = client.count(c.name, exact=True).count
            edge.ensure(c.name, dim)
            bar = tqdm(
                total=total,
                desc=f"migrating {c.name}",
                unit="pt",
                disable=not progress,
                file=sys.stderr,
            )
            offset = None
            while True:
                recs, offset = client.scroll(
                    c.name, limit=PAGE, offset=offset, with_payload=True, with_vectors=True
                )
                points = [Point(str(r.id), dict(r.payload or {}), _vector(r.vector)) for r in recs]
                edge.upsert(c.name, points)
                bar.update(len(points))
                if offset is None:
                    break
            bar.close()
            have = edge.count(c.name, {})
            if have != total:
                raise Unavailable(
                    f"migration of {c.name} from {old} copied {have} of {total} points; "
                    "the old folder is kept, nothing was removed"
                )
            moved[c.name] = total
    finally:
        client.close()
    shutil.rmtree(old)
    return moved


def _vector(raw: Any) -> list[float]:
    """Huchu's collections hold one unnamed dense vector."""
    return [float(v) for v in raw]
