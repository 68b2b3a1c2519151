"""The pictures of a version: cohort averages, the pair, timelines, template placements."""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
from PIL import Image

from huchu.context import Context
from huchu.errors import HuchuError
from huchu.game.average import GameState
from huchu.game.render.morph import RGB, MorphState
from huchu.game.render.present import pair_image, present, timeline_webp
from huchu.game.state import version_prefix
from huchu.imaging.decode import decode_image, encode_jpeg

log = logging.getLogger(__name__)
TIMELINE_FRAMES = 12
MAX_TEMPLATES = 4


def render_version(
    ctx: Context,
    event: str,
    version: int,
    state: GameState,
    morph: MorphState,
    history: list[dict[str, Any]],
) -> dict[str, dict[str, str]]:
    """Write every image of ``version``; return their keys per cohort (and "pair")."""
    from huchu.game.render.swap import swap_renderer

    base = version_prefix(event, version)
    keys: dict[str, dict[str, str]] = {}
    renders: dict[str, RGB | None] = {}  # working size: templates are placed from these
    presented: dict[str, RGB] = {}  # what people see: 768x960, feathered
    swapper = swap_renderer(ctx)
    for cohort, acc in morph.cohorts.items():
        image = acc.render()
        if swapper is not None and state.cohorts[cohort].count:
            if image is not None:
                image = swapper.render(image, state.cohorts[cohort].mean, acc.shape / acc.count)
            else:  # no face could be morphed: swap onto the face closest to the average
                image = _swap_onto_closest(ctx, event, cohort, state, swapper)
        renders[cohort] = image
        if image is None:
            continue
        shown = present(image, acc.shape / acc.count if acc.count > 0 else None)
        presented[cohort] = shown
        key = f"{base}/{cohort}.jpg"
        ctx.objects.put(key, encode_jpeg(shown, 90), "image/jpeg")
        keys[cohort] = {"image": key}
        frames = [
            f
            for f in (_frame(ctx, h, cohort) for h in history[-(TIMELINE_FRAMES - 1) :])
            if f is not None
        ]
        timeline_key = f"{base}/{cohort}-timeline.webp"
        ctx.objects.put(timeline_key, timeline_webp([*frames, shown]), "image/webp")
        keys[cohort]["timeline"] = timeline_key
    if presented.get("female") is not None or presented.get("male") is not None:
        key = f"{base}/pair.jpg"
        ctx.objects.put(
            key,
            encode_jpeg(pair_image(presented.get("female"), presented.get("male")), 90),
            "image/jpeg",
        )
        keys["pair"] = {"image": key}
    for name, placed in _templates(ctx, event, morph, renders, swapper, state):
        key = f"{base}/templates/{name}.jpg"
        ctx.objects.put(key, encode_jpeg(placed, 90), "image/jpeg")
        keys.setdefault("templates", {})[name] = key
    return keys


def _swap_onto_closest(
    ctx: Context, event: str, cohort: str, state: GameState, swapper: Any
) -> RGB | None:
    from huchu.game.ranking import ranked
    from huchu.game.render.shape import H, W

    mean = state.cohorts[cohort].mean
    rows = ranked(ctx, event, cohort, mean, 1)
    if not rows:
        return None
    payload = rows[0][2]
    rgb = decode_image(ctx.objects.get(payload["image_key"])).rgb
    swapped = swapper.onto_points(rgb, np.asarray(payload["kps"], dtype=np.float32), mean)
    x1, y1, x2, y2 = payload["bbox"]
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 0.8
    box = (int(cx - half), int(cy - half * H / W), int(cx + half), int(cy + half * H / W))
    crop = Image.fromarray(swapped).crop(box).resize((W, H), Image.Resampling.LANCZOS)
    return np.asarray(crop)


def _frame(ctx: Context, snapshot: dict[str, Any], cohort: str) -> RGB | None:
    key = snapshot.get("images", {}).get(cohort, {}).get("image")
    if not key:
        return None
    try:
        return np.asarray(Image.open(io.BytesIO(ctx.objects.get(key))).convert("RGB"))
    except (HuchuError, OSError):
        return None


def _templates(
    ctx: Context,
    event: str,
    morph: MorphState,
    renders: dict[str, RGB | None],
    swapper: Any,
    state: GameState,
) -> list[tuple[str, RGB]]:
    """Operators drop photos under ``templates/`` (or ``events/<e>/templates/``)."""
    from huchu.game.render.placement import place

    names = [
        k
        for k in ctx.objects.list("templates/") + ctx.objects.list(f"events/{event}/templates/")
        if k.lower().endswith((".jpg", ".jpeg", ".png", ".webp"))
    ][:MAX_TEMPLATES]
    out: list[tuple[str, RGB]] = []
    for key in names:
        try:
            data = ctx.objects.get(key)
            analysis = ctx.inference.analyze(data)
            faces = [f for f in analysis.faces if f.det_score >= ctx.settings.min_det_score]
            if not faces:
                continue
            face = max(faces, key=lambda f: f.face_px)
            cohort = (
                face.gender
                if face.gender in ("female", "male") and renders.get(face.gender) is not None
                else "all"
            )
            average = renders.get(cohort)
            if average is None:
                continue
            rgb = decode_image(data).rgb
            name = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            if swapper is not None:
                out.append((name, swapper.onto(rgb, face, state.cohorts[cohort].mean)))
            elif len(face.landmarks) == 68:
                shape = morph.cohorts[cohort].shape / max(1, morph.cohorts[cohort].count)
                out.append((name, place(rgb, np.asarray(face.landmarks), average, shape)))
        except HuchuError as exc:
            log.warning("template %s skipped: %s", key, exc.message)
    return out
