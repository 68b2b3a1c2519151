"""Everything an upload draws: the clean original, the annotated photo, the portraits.

A plain function of the decoded picture and its faces, so the embedded app can run
it in the same worker process as the analysis (one decode, no pixels copied back:
``huchu.analysis.analyze_and_render``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from huchu.engines.base import RGB, Face
from huchu.imaging.annotate import Mark, annotate
from huchu.imaging.decode import decode_image, encode_jpeg
from huchu.imaging.portrait import card


@dataclass(frozen=True)
class RenderSpec:
    event: str
    min_score: float
    min_px: int

    def reason(self, face: Face) -> str | None:
        if face.det_score < self.min_score:
            return "low_score"
        if face.face_px < self.min_px:
            return "too_small"
        return None

    def any_accepted(self, faces: list[Face]) -> bool:
        return any(self.reason(f) is None for f in faces)


@dataclass(frozen=True)
class Rendered:
    original: bytes
    annotated: bytes
    portraits: dict[int, bytes] = field(default_factory=dict)


def render(rgb: RGB, faces: list[Face], spec: RenderSpec) -> Rendered:
    marks = [Mark(i, f.bbox, f.gender, spec.reason(f) is None) for i, f in enumerate(faces)]
    portraits = {
        m.index: encode_jpeg(card(rgb, faces[m.index], spec.event, m.index), 88)
        for m in marks
        if m.accepted
    }
    return Rendered(encode_jpeg(rgb), encode_jpeg(annotate(rgb, marks), 85), portraits)


def render_bytes(
    data: bytes, faces: list[Face], spec: RenderSpec, max_pixels: int
) -> Rendered | None:
    """For remote inference: the faces came over HTTP, the drawing happens here."""
    if not spec.any_accepted(faces):
        return None
    return render(decode_image(data, max_pixels=max_pixels).rgb, faces, spec)
