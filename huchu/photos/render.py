"""Everything an upload draws: the clean original, the annotated photo, the portraits.

A plain function of the decoded picture and its faces, so the embedded app can run
it in the same worker process as the analysis (one decode, no pixels copied back).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from huchu.analysis import Analysis, analyze_rgb
from huchu.engines.base import RGB, Face, FaceEngine
from huchu.imaging.decode import decode_image, encode_jpeg
from huchu.photos.annotate import Mark, annotate
from huchu.photos.portrait import card


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


def analyze_and_render(
    engine: FaceEngine,
    data: bytes,
    spec: RenderSpec,
    *,
    max_side: int = 1600,
    max_pixels: int = 40_000_000,
) -> tuple[Analysis, Rendered | None]:
    """Decode once, analyse, and draw only when some face passes the gate."""
    decoded = decode_image(data, max_pixels=max_pixels)
    faces = analyze_rgb(engine, decoded.rgb, max_side=max_side, min_score=spec.min_score)
    analysis = Analysis(decoded.width, decoded.height, faces, engine.info)
    if not any(spec.reason(f) is None for f in faces):
        return analysis, None
    return analysis, render(decoded.rgb, faces, spec)


def render_bytes(
    data: bytes, analysis: Analysis, spec: RenderSpec, max_pixels: int
) -> Rendered | None:
    """For remote inference: the faces came over HTTP, the drawing happens here."""
    if not any(spec.reason(f) is None for f in analysis.faces):
        return None
    return render(decode_image(data, max_pixels=max_pixels).rgb, analysis.faces, spec)
