"""A font that has Hangul, for the words drawn into pictures (cards, portraits)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

# Debian's fonts-nanum and fonts-noto-cjk; the first one present is used.
CANDIDATES = (
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=16)
def font(size: int) -> Font:
    """The first Hangul font found, at ``size`` px; Pillow's own font (Latin only) otherwise."""
    for path in CANDIDATES:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def has_hangul_font() -> bool:
    return any(Path(p).is_file() for p in CANDIDATES)
