"""The pictures of a version: cohort averages, the pair, timelines, template placements."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
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
    """Write every image of ``version``; return their keys per cohort (and "pair").

    The drawing (the morphs, their presentation, the timelines' frames, the WebP and JPEG
    encoding: about 0.3 s, 1.1 s under load) runs through ``Inference.offload``, out of
    the API's process under ``huchu serve``; the swap stage (models of its own) runs here.
    """
    from huchu.game.render.swap import swap_renderer

    base = version_prefix(event, version)
    swapper = swap_renderer(ctx)
    frames = {c: _frames(ctx, history[-(TIMELINE_FRAMES - 1) :], c) for c in morph.cohorts}
    if swapper is None:
        drawn = ctx.inference.offload(draw, morph, frames, None)
    else:
        swapped: dict[str, RGB | None] = {}
        for cohort, acc in morph.cohorts.items():
            if state.cohorts[cohort].count:
                image = acc.render()
                if image is not None:
                    swapped[cohort] = swapper.render(
                        image, state.cohorts[cohort].mean, acc.shape / acc.count
                    )
                else:  # no face could be morphed: swap onto the face closest to the average
                    swapped[cohort] = _swap_onto_closest(ctx, event, cohort, state, swapper)
        drawn = draw(morph, frames, swapped)
    keys: dict[str, dict[str, str]] = {}
    for name, (data, content_type) in drawn.files.items():
        ctx.objects.put(f"{base}/{name}", data, content_type)
    for cohort in morph.cohorts:
        if f"{cohort}.jpg" in drawn.files:
            keys[cohort] = {
                "image": f"{base}/{cohort}.jpg",
                "timeline": f"{base}/{cohort}-timeline.webp",
            }
    if "pair.jpg" in drawn.files:
        keys["pair"] = {"image": f"{base}/pair.jpg"}
    for name, placed in _templates(ctx, event, morph, drawn.renders, swapper, state):
        key = f"{base}/templates/{name}.jpg"
        ctx.objects.put(key, encode_jpeg(placed, 90), "image/jpeg")
        keys.setdefault("templates", {})[name] = key
    return keys


@dataclass
class Drawn:
    """A version's pictures: encoded files by name, and each cohort's working-size face
    (templates are placed from these)."""

    files: dict[str, tuple[bytes, str]]
    renders: dict[str, RGB | None]


def draw(
    morph: MorphState, frames: dict[str, list[bytes]], swapped: dict[str, RGB | None] | None
) -> Drawn:
    """The pictures from the morph sums (or the swapped faces), plain and picklable: it
    runs in a process of its own under ``huchu serve``."""
    files: dict[str, tuple[bytes, str]] = {}
    renders: dict[str, RGB | None] = {}
    presented: dict[str, RGB] = {}  # what people see: 768x960, feathered
    for cohort, acc in morph.cohorts.items():
        image = swapped[cohort] if swapped and cohort in swapped else acc.render()
        renders[cohort] = image
        if image is None:
            continue
        shown = present(image, acc.shape / acc.count if acc.count > 0 else None)
        presented[cohort] = shown
        files[f"{cohort}.jpg"] = (encode_jpeg(shown, 90), "image/jpeg")
        earlier = [f for f in map(_decoded, frames.get(cohort, [])) if f is not None]
        files[f"{cohort}-timeline.webp"] = (timeline_webp([*earlier, shown]), "image/webp")
    if presented.get("female") is not None or presented.get("male") is not None:
        pair = pair_image(presented.get("female"), presented.get("male"))
        files["pair.jpg"] = (encode_jpeg(pair, 90), "image/jpeg")
    return Drawn(files, renders)


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


def _frames(ctx: Context, history: list[dict[str, Any]], cohort: str) -> list[bytes]:
    """The earlier versions' pictures of a cohort, as stored (a redacted one has none)."""
    out = []
    for snapshot in history:
        key = snapshot.get("images", {}).get(cohort, {}).get("image")
        if key:
            try:
                out.append(ctx.objects.get(key))
            except HuchuError:
                continue
    return out


def _decoded(data: bytes) -> RGB | None:
    try:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except OSError:
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
