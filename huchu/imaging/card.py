"""The share card: 1080x1350, made to be posted (portrait, average, rank, look-alike).

PNG (the contract's ``card.png``, lossless) or JPEG (``card.jpg``, what the share button
posts: at most ``JPEG_BUDGET`` bytes, a fifth of the PNG). Both carry the card's words:
the PNG in its ``Description`` text chunk, the JPEG in its comment (UTF-8).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps
from PIL.PngImagePlugin import PngInfo

from huchu.imaging.fonts import font

W, H = 1080, 1350
BG = (250, 247, 242)
INK = (34, 34, 34)
PINK = (214, 51, 132)
MUTED = (110, 110, 110)


@dataclass(frozen=True)
class CardText:
    """Every word on the card, already in the reader's language."""

    event: str
    headline: str
    rank: str
    you: str
    average: str
    lookalike: str
    footer: str

    def lines(self) -> list[str]:
        return [
            self.event,
            self.headline,
            self.rank,
            self.you,
            self.average,
            self.lookalike,
            self.footer,
        ]


def _fit(img: bytes | None, size: tuple[int, int]) -> Image.Image | None:
    if not img:
        return None
    pic = Image.open(io.BytesIO(img)).convert("RGB")
    return ImageOps.fit(pic, size, Image.Resampling.LANCZOS)


def _rounded(
    canvas: Image.Image, pic: Image.Image | None, at: tuple[int, int], radius: int
) -> None:
    if pic is None:
        box = (at[0], at[1], at[0] + 360, at[1] + 450)
        ImageDraw.Draw(canvas).rounded_rectangle(box, radius, fill=(230, 226, 220))
        return
    mask = Image.new("L", pic.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *pic.size), radius, fill=255)
    canvas.paste(pic, at, mask)


def _centered(
    draw: ImageDraw.ImageDraw,
    y: int,
    text: str,
    size: int,
    fill: tuple[int, int, int],
    x0: int = 0,
    x1: int = W,
) -> None:
    f = font(size)
    while size > 18 and draw.textlength(text, font=f) > (x1 - x0) - 40:
        size -= 4
        f = font(size)
    width = draw.textlength(text, font=f)
    draw.text(((x0 + x1 - width) / 2, y), text, font=f, fill=fill)


JPEG_QUALITY = 84
JPEG_BUDGET = 200_000


def share_card(
    portrait: bytes | None,
    average: bytes | None,
    lookalike: bytes | None,
    text: CardText,
    kind: str = "png",
) -> bytes:
    """The card as ``kind`` (``png`` or ``jpeg``), its words inside the file too."""
    canvas = Image.new("RGB", (W, H), BG)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, W, 14), fill=PINK)
    _centered(draw, 60, text.event, 56, INK)
    _centered(draw, 140, text.headline, 64, PINK)
    _centered(draw, 230, text.rank, 44, INK)
    _rounded(canvas, _fit(portrait, (420, 525)), (90, 330), 28)
    _rounded(canvas, _fit(average, (420, 525)), (570, 330), 28)
    _centered(draw, 870, text.you, 36, MUTED, 90, 510)
    _centered(draw, 870, text.average, 36, MUTED, 570, 990)
    look = _fit(lookalike, (200, 250))
    if look is not None:
        _rounded(canvas, look, (160, 960), 20)
        _centered(draw, 1060, text.lookalike, 40, INK, 380, 1000)
    else:
        _centered(draw, 1060, text.lookalike, 40, INK)
    _centered(draw, 1260, text.footer, 34, MUTED)
    words = "\n".join(text.lines())
    buf = io.BytesIO()
    if kind == "jpeg":
        canvas.save(
            buf,
            format="JPEG",
            quality=JPEG_QUALITY,
            optimize=True,
            progressive=True,
            subsampling="4:2:0",
            comment=words.encode("utf-8"),
        )
    else:
        info = PngInfo()
        info.add_itxt("Description", words)
        canvas.save(buf, format="PNG", pnginfo=info, optimize=True)
    return buf.getvalue()
