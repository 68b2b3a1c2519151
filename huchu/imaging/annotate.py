"""The annotated photo: green box for men, pink for women, red for faces that do not count.

Each box carries its face's number (from 1, in reading order). Faces that do not count are
explained in a legend band across the bottom of the photo, in both languages the site
speaks (the picture is shared as it is): "3  background · 뒤쪽 사람".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from huchu.engines.base import RGB
from huchu.imaging.fonts import font

GREEN = (40, 200, 80)
PINK = (255, 105, 180)
RED = (230, 30, 30)
GREY = (160, 160, 160)

# What the legend says of each reason (English, Korean): short enough for a phone.
LEGEND = {
    "low_score": ("not a clear face", "얼굴이 불분명"),
    "too_small": ("too small", "너무 작음"),
    "cut_off": ("cut by the edge", "가장자리에 잘림"),
    "turned_away": ("turned away", "정면이 아님"),
    "blurry": ("blurry", "흐림"),
    "background": ("in the background", "뒤쪽 사람"),
}


@dataclass(frozen=True)
class Mark:
    number: int
    bbox: tuple[float, float, float, float]
    gender: str | None
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def color_of(mark: Mark) -> tuple[int, int, int]:
    if not mark.accepted:
        return RED
    return {"male": GREEN, "female": PINK}.get(mark.gender or "", GREY)


def annotate(rgb: RGB, marks: Sequence[Mark]) -> RGB:
    """Boxes with numbers, scaled to the photo so they read on a phone; a legend for the red."""
    out = np.ascontiguousarray(rgb.copy())
    h, w = out.shape[:2]
    thick = max(2, round(max(h, w) / 400))
    font_scale = max(0.6, max(h, w) / 1200)
    for m in marks:
        x1, y1, x2, y2 = (round(v) for v in m.bbox)
        color = color_of(m)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thick, cv2.LINE_AA)
        label = f"{m.number}"
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
    rejected = [m for m in marks if not m.accepted]
    return legend(out, rejected) if rejected else out


def legend_lines(rejected: Sequence[Mark]) -> list[str]:
    """One line per reason: the numbers of the faces it keeps out, then what it means."""
    by_reason: dict[str, list[int]] = {}
    for m in rejected:
        by_reason.setdefault(m.reason or "low_score", []).append(m.number)
    lines = []
    for reason, numbers in by_reason.items():
        en, ko = LEGEND.get(reason, (reason, reason))
        lines.append(f"{', '.join(map(str, numbers))}  {en} · {ko}")
    return lines


def legend(rgb: RGB, rejected: Sequence[Mark]) -> RGB:
    """A dark band across the bottom of the photo with a red tag and a line per reason."""
    h, w = rgb.shape[:2]
    lines = legend_lines(rejected)
    size = max(12, round(min(w, h) / 24))
    pad = size // 2
    band = len(lines) * (size + pad) + pad
    img = Image.fromarray(rgb)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    top = max(0, h - band)
    draw.rectangle([0, top, w, h], fill=(0, 0, 0, 170))
    f = font(size)
    for k, line in enumerate(lines):
        y = top + pad + k * (size + pad)
        draw.rectangle(
            [pad, y + size // 6, pad + size // 2, y + size - size // 6], fill=(*RED, 255)
        )
        draw.text((pad * 2 + size // 2, y), line, font=f, fill=(255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB"))
