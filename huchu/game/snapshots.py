"""Reading versions: the current one (through the pointer), public shapes, history."""

from __future__ import annotations

from typing import Any

from huchu.context import Context
from huchu.game import store


def current(ctx: Context, event: str) -> dict[str, Any] | None:
    pointer = store.get_json(ctx, f"{store.prefix(event)}/current.json")
    if pointer is None:
        return None
    return store.get_json(ctx, f"{store.version_prefix(event, int(pointer['version']))}.json")


def public(ctx: Context, snapshot: dict[str, Any] | None, event: str = "default") -> dict[str, Any]:
    if snapshot is None:
        return {
            "event": event,
            "version": 0,
            "computed_at": None,
            "cohorts": [],
            "pair_image_url": None,
        }
    images = snapshot.get("images", {})
    return {
        "event": snapshot["event"],
        "version": snapshot["version"],
        "computed_at": snapshot["computed_at"],
        "cohorts": [
            {k: v for k, v in c.items() if k != "mean"}
            | {
                "image_url": ctx.url(images.get(c["cohort"], {}).get("image")),
                "timeline_url": ctx.url(images.get(c["cohort"], {}).get("timeline")),
            }
            for c in snapshot["cohorts"]
        ],
        "pair_image_url": ctx.url(images.get("pair", {}).get("image")),
        "template_urls": {k: ctx.url(v) for k, v in images.get("templates", {}).items()},
    }


def history_snapshots(ctx: Context, event: str) -> list[dict[str, Any]]:
    """Versions up to the current one, oldest first (a version never made current is skipped)."""
    head = current(ctx, event)
    if head is None:
        return []
    out = []
    base = f"{store.prefix(event)}/versions/"
    for key in ctx.objects.list(base):
        if not key.endswith(".json") or "/" in key[len(base) :]:
            continue  # a version's own files (graph.json, ...) live in its folder
        snap = store.get_json(ctx, key)
        if snap is not None and snap["version"] <= head["version"]:
            out.append(snap)
    return sorted(out, key=lambda s: s["version"])


def history(ctx: Context, event: str, cohort: str) -> dict[str, Any]:
    items = []
    for snap in reversed(history_snapshots(ctx, event)):
        for c in snap["cohorts"]:
            if c["cohort"] == cohort:
                key = snap.get("images", {}).get(cohort, {}).get("image")
                items.append(
                    {
                        "version": snap["version"],
                        "computed_at": snap["computed_at"],
                        "count": c["count"],
                        "image_url": ctx.url(key),
                    }
                )
    return {"items": items}


def graph_key(ctx: Context, event: str, fmt: str) -> str | None:
    snap = current(ctx, event)
    if snap is None:
        return None
    key: str | None = snap.get("images", {}).get("graph", {}).get(fmt)
    return key
