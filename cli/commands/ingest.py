"""``huchu ingest DIR``: bulk upload with a progress bar, resumable by content hash."""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from pathlib import Path

from cli.main import CliError
from huchu.config import Settings
from huchu.errors import HuchuError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif", ".bmp"}


def run(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from functions.wiring import build_context
    from huchu.photos import owner as owners
    from huchu.photos import validate
    from huchu.photos.upload import UploadRequest, upload_photo

    directory: Path = args.directory
    if not directory.is_dir():
        raise CliError(f"not a folder: {directory}")
    event = validate.event(args.event)
    files = sorted(
        p for p in directory.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not files:
        raise CliError(f"no images in {directory}")
    try:
        ctx = build_context(settings)
    except RuntimeError as exc:  # Qdrant local mode: the folder is owned by a running server
        raise CliError(f"cannot open the data folder ({exc}); stop `huchu serve` first") from None
    from huchu import events

    events.ensure(ctx, event)  # the command line acts as an operator: it sets up the event
    token = owners.new_token()
    counts: Counter[str] = Counter()

    try:
        for path in tqdm(files, desc=f"ingest {event}", unit="photo"):
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if ctx.vectors.count(ctx.photos, {"event": event, "content_hash": digest}):
                counts["skipped (already ingested)"] += 1
                continue
            try:
                upload_photo(ctx, UploadRequest(data, event, path.stem[:100], token))
                counts["ingested"] += 1
            except HuchuError as exc:
                counts[f"failed: {exc.code}"] += 1
    finally:
        ctx.close()
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if counts["ingested"]:
        print(f"owner token for these photos (keep it to delete them): {token}")
    return 0
