"""The annotated photo: green box for men, pink for women, red dashed for rejected faces.

No words are burned in (the page says why in the reader's language): only numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from huchu.engines.base import RGB

GREEN = (40, 200, 80)
PINK = (255, 105, 180)
RED = (230, 30, 30)
GREY = (160, 160, 160)


@dataclass(frozen=True)
class Mark:
    index: int
    bbox: tuple[float, float, float, float]
    gender: str | None
    accepted: bool


def color_of(mark: Mark) -> tuple[int, int, int]:
    if not mark.accepted:
        return RED
    return {"male": GREEN, "female": PINK}.get(mark.gender or "", GREY)


def annotate(rgb: RGB, marks: Sequence[Mark]) -> RGB:
    """Boxes with index numbers, scaled to the photo so they read on a phone."""
    out = np.ascontiguousarray(rgb.copy())
    h, w = out.shape[:2]
    thick = max(2, round(max(h, w) / 400))
    font_scale = max(0.6, max(h, w) / 1200)
    for m in marks:
        x1, y1, x2, y2 = (round(v) for v in m.bbox)
        color = color_of(m)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thick, cv2.LINE_AA)
        label = f"{m.index}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
        ty = y1 - 4 if y1 - th - base - 4 > 0 else min(h - 1, y2 + th + base + 4)
        cv2.rectangle(out, (x1, ty - th - base), (x1 + tw + 6, ty + base // 2), color, -1)
        cv2.putText(
            out,
            label,
            (x1 + 3, ty - base // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (255, 255, 255),
            thick,
            cv2.LINE_AA,
        )
    return out
