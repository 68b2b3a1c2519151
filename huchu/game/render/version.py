"""The pictures of a version: cohort averages, the pair, timelines, template portraits.

Template portraits put each cohort's average into a whole person (hair, neck,
shoulders): ``female``, ``male`` and ``pair`` (both averages in one picture) ship with the
project (``portraits/``, public domain, see its README.md); an operator's photo under
``templates/`` or ``events/<event>/templates/`` adds one, and one named like a shipped
portrait (``female.jpg``...) replaces it (the event's over everyone's). Each face of a
template takes the average of its own gender's cohort.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from huchu.context import Context
from huchu.engines.base import Face
from huchu.errors import HuchuError
from huchu.game.average import GameState
from huchu.game.render.morph import RGB, MorphState
from huchu.game.render.present import pair_image, present, timeline_webp
from huchu.game.state import version_prefix
from huchu.imaging.decode import decode_image, encode_jpeg

log = logging.getLogger(__name__)
TIMELINE_FRAMES = 12
MAX_TEMPLATES = 4  # an operator's, beside the shipped ones
SHIPPED = Path(__file__).with_name("portraits")
PORTRAITS = ("female", "male")  # shipped portraits that are a cohort's own
PAIR = "pair"
# A template's faces worth a place: at least this share of its largest face's size.
MIN_FACE_SHARE = 0.5
MAX_FACES = 2  # a template's faces that get an average (the pair's two)


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
    jobs = _template_jobs(ctx, event, morph, state)
    if swapper is None:
        drawn = ctx.inference.offload(draw, morph, frames, None, jobs)
    else:
        swapped: dict[str, RGB | None] = {}
        for cohort, acc in morph.cohorts.items():
            if state.cohorts[cohort].count:
                image = acc.render()
                if image is not None:
                    swapped[cohort] = swapper.render(
                        image, state.cohorts[cohort].mean, acc.mean_shape()
                    )
                else:  # no face could be morphed: swap onto the face closest to the average
                    swapped[cohort] = _swap_onto_closest(ctx, event, cohort, state, swapper)
        drawn = draw(morph, frames, swapped)
        for job in jobs:  # the swap goes onto the same templates
            _jpegs(drawn.files, f"templates/{job.name}", _swap_onto(job, swapper, state))
    keys: dict[str, dict[str, str]] = {}
    for name, (data, content_type) in drawn.files.items():
        ctx.objects.put(f"{base}/{name}", data, content_type)
    for cohort in morph.cohorts:
        if f"{cohort}.jpg" in drawn.files:
            keys[cohort] = {
                "image": f"{base}/{cohort}.jpg",
                "image_small": f"{base}/{cohort}{SMALL}.jpg",
                "timeline": f"{base}/{cohort}-timeline.webp",
            }
    if "pair.jpg" in drawn.files:
        keys["pair"] = {"image": f"{base}/pair.jpg", "image_small": f"{base}/pair{SMALL}.jpg"}
    for job in jobs:
        if f"templates/{job.name}.jpg" not in drawn.files:
            continue
        key = f"{base}/templates/{job.name}.jpg"
        keys.setdefault("templates", {})[job.name] = key
        own = job.name if job.name in PORTRAITS else PAIR if job.name == PAIR else None
        if own is not None and (own == PAIR or own in keys):
            keys.setdefault(own, {})["portrait"] = key
            keys[own]["portrait_small"] = f"{base}/templates/{job.name}{SMALL}.jpg"
    return keys


@dataclass
class Drawn:
    """A version's pictures: encoded files by name, and each cohort's working-size face
    (templates are placed from these)."""

    files: dict[str, tuple[bytes, str]]
    renders: dict[str, RGB | None]


@dataclass(frozen=True)
class TemplateJob:
    """A template photo and where each of its faces takes which cohort's average."""

    name: str
    rgb: RGB
    faces: tuple[tuple[Face, str], ...]  # (the face found on the template, its cohort)


def draw(
    morph: MorphState,
    frames: dict[str, list[bytes]],
    swapped: dict[str, RGB | None] | None,
    templates: list[TemplateJob] | None = None,
) -> Drawn:
    """The pictures from the morph sums (or the swapped faces), plain and picklable: it
    runs in a process of its own under ``huchu serve``. Templates are placed here only
    from morph renders (a swap puts the identity onto them itself)."""
    from huchu.game.render.placement import place

    files: dict[str, tuple[bytes, str]] = {}
    renders: dict[str, RGB | None] = {}
    presented: dict[str, RGB] = {}  # what people see: 768x960, feathered
    for cohort, acc in morph.cohorts.items():
        image = swapped[cohort] if swapped and cohort in swapped else acc.render()
        renders[cohort] = image
        if image is None:
            continue
        shown = present(image, acc.mean_shape())
        presented[cohort] = shown
        _jpegs(files, cohort, shown)
        earlier = [f for f in map(_decoded, frames.get(cohort, [])) if f is not None]
        files[f"{cohort}-timeline.webp"] = (timeline_webp([*earlier, shown]), "image/webp")
    # The pair only when both cohorts are counted: never a blank or borrowed half.
    if presented.get("female") is not None and presented.get("male") is not None:
        pair = pair_image(presented.get("female"), presented.get("male"))
        _jpegs(files, "pair", pair)
    for job in templates or []:
        out = job.rgb
        for face, cohort in job.faces:
            acc, image = morph.cohorts[cohort], renders.get(cohort)
            shape = acc.mean_shape()
            if image is None or shape is None or len(face.landmarks) != 68:
                continue
            try:
                out = place(out, np.asarray(face.landmarks, dtype=np.float64), image, shape)
            except ValueError as exc:
                log.warning("template %s: a face skipped: %s", job.name, exc)
        if out is not job.rgb:
            _jpegs(files, f"templates/{job.name}", out)
    return Drawn(files, renders)


# Every picture people see is stored twice: full size (the big screen, a download) and at
# half size (what a phone loads: the pages pick it through srcset).
SMALL = "-small"
QUALITY, SMALL_QUALITY = 90, 82


def _jpegs(files: dict[str, tuple[bytes, str]], name: str, rgb: RGB) -> None:
    """``name``.jpg and ``name``-small.jpg (half the width and height) into ``files``."""
    files[f"{name}.jpg"] = (encode_jpeg(rgb, QUALITY), "image/jpeg")
    h, w = rgb.shape[:2]
    half = Image.fromarray(rgb).reduce(2) if min(h, w) >= 2 else Image.fromarray(rgb)
    files[f"{name}{SMALL}.jpg"] = (encode_jpeg(np.asarray(half), SMALL_QUALITY), "image/jpeg")


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


_ANALYSED: dict[tuple[str, str], list[Face]] = {}
_ANALYSED_LOCK = threading.Lock()


def _faces_of(ctx: Context, data: bytes) -> list[Face]:
    """A template's faces worth a place, largest first (analysed once per engine)."""
    key = (hashlib.sha256(data).hexdigest(), ctx.inference.info().model_id)
    with _ANALYSED_LOCK:
        known = _ANALYSED.get(key)
    if known is None:
        found = [
            f
            for f in ctx.inference.analyze(data).faces
            if f.det_score >= ctx.settings.min_det_score
        ]
        largest = max((f.face_px for f in found), default=0)
        known = sorted(
            (f for f in found if f.face_px >= MIN_FACE_SHARE * largest),
            key=lambda f: -f.face_px,
        )
        with _ANALYSED_LOCK:
            _ANALYSED[key] = known
    return known


def templates_of(ctx: Context, event: str) -> dict[str, bytes]:
    """Every template by name: the shipped ones, then everyone's, then the event's."""
    out = {p.stem: p.read_bytes() for p in sorted(SHIPPED.glob("*.jpg"))}
    operators = [
        k
        for k in ctx.objects.list("templates/") + ctx.objects.list(f"events/{event}/templates/")
        if k.lower().endswith((".jpg", ".jpeg", ".png", ".webp"))
    ]
    extra = 0
    for key in operators:
        name = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if name not in out:
            if extra >= MAX_TEMPLATES:
                continue
            extra += 1
        try:
            out[name] = ctx.objects.get(key)
        except HuchuError as exc:
            log.warning("template %s skipped: %s", key, exc.message)
    return out


def _template_jobs(
    ctx: Context, event: str, morph: MorphState, state: GameState
) -> list[TemplateJob]:
    """Each template with its faces, each face given its gender's cohort (or everyone's)."""
    jobs = []
    for name, data in templates_of(ctx, event).items():
        try:
            faces = _faces_of(ctx, data)
            rgb = decode_image(data).rgb
        except HuchuError as exc:
            log.warning("template %s skipped: %s", name, exc.message)
            continue
        if name in PORTRAITS:  # a cohort's own portrait: its largest face, that cohort
            placed = [(faces[0], name)] if faces and state.cohorts[name].count else []
        else:
            # A face takes its own gender's average, never the other's: a template whose
            # faces cannot all be given theirs (the pair, with only women counted) waits.
            placed = []
            for face in faces[:MAX_FACES]:
                cohort = face.gender if face.gender in ("female", "male") else "all"
                if not state.cohorts[cohort].count:
                    placed = []
                    break
                placed.append((face, cohort))
        if placed:
            jobs.append(TemplateJob(name, rgb, tuple(placed)))
    return jobs


def _swap_onto(job: TemplateJob, swapper: Any, state: GameState) -> RGB:
    out = job.rgb
    for face, cohort in job.faces:
        out = swapper.onto(out, face, state.cohorts[cohort].mean)
    result: RGB = out
    return result
