"""Everything an upload draws: the clean original, the annotated photo, the portraits.

A plain function of the decoded picture and its faces, so the embedded app can run
it in the same worker process as the analysis (one decode, no pixels copied back:
``huchu.analysis.analyze_and_render``). The game's quality gate (``huchu.quality``) is
applied here, on the same pixels: it decides which faces get a portrait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from huchu.engines.base import RGB, Face
from huchu.imaging.annotate import Mark, annotate
from huchu.imaging.decode import decode_image, encode_jpeg
from huchu.imaging.portrait import card
from huchu.quality import Gate

Reasons = list[str | None]


@dataclass(frozen=True)
class RenderSpec:
    event: str
    min_score: float
    min_px: int

    @property
    def gate(self) -> Gate:
        return Gate(min_score=self.min_score, min_px=self.min_px)

    def judge(self, rgb: RGB, faces: Sequence[Face]) -> Reasons:
        """Each face's reason for not counting (``None``: it counts)."""
        return self.gate.judge(rgb, faces)


@dataclass(frozen=True)
class Rendered:
    original: bytes
    annotated: bytes
    portraits: dict[int, bytes] = field(default_factory=dict)


def render(rgb: RGB, faces: Sequence[Face], reasons: Reasons, spec: RenderSpec) -> Rendered:
    """``faces`` in reading order: face ``i`` is number ``i + 1`` on the picture."""
    marks = [Mark(i + 1, f.bbox, f.gender, reasons[i]) for i, f in enumerate(faces)]
    portraits = {
        i: encode_jpeg(card(rgb, faces[i], spec.event, i + 1), 88)
        for i, reason in enumerate(reasons)
        if reason is None
    }
    return Rendered(encode_jpeg(rgb), encode_jpeg(annotate(rgb, marks), 85), portraits)


def judge_and_render(
    rgb: RGB, faces: Sequence[Face], spec: RenderSpec
) -> tuple[Reasons, Rendered | None]:
    """The gate's verdicts, and the pictures only when some face counts."""
    reasons = spec.judge(rgb, faces)
    if all(r is not None for r in reasons):
        return reasons, None
    return reasons, render(rgb, faces, reasons, spec)


def render_bytes(
    data: bytes, faces: Sequence[Face], spec: RenderSpec, max_pixels: int
) -> tuple[Reasons, Rendered | None]:
    """For remote inference: the faces came over HTTP, the judging and drawing happen here."""
    if not faces:
        return [], None
    return judge_and_render(decode_image(data, max_pixels=max_pixels).rgb, faces, spec)
