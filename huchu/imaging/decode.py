"""One robust decoder for uploads: formats, orientation, bombs and odd pixel modes."""

from __future__ import annotations

import io
import re
import struct
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from huchu.config import DEFAULTS
from huchu.errors import TooLarge, UnsupportedMedia

try:  # HEIC from phones; the wheel is optional at run time.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    _HEIF = True
except ImportError:  # pragma: no cover - depends on the install
    _HEIF = False

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"} | ({"HEIF"} if _HEIF else set())

ImageFile.LOAD_TRUNCATED_IMAGES = False

RGB = NDArray[np.uint8]
# What Pillow's PNG reader says of text chunks past MAX_TEXT_CHUNK or MAX_TEXT_MEMORY.
_TEXT_BOMB = re.compile(r"(?i)decompressed data too large|too much memory used in text chunks")


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB picture and what it came from."""

    rgb: RGB
    format: str

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


# At most this many decodes hold their bitmaps at once in a process.
_DECODES = threading.BoundedSemaphore(DEFAULTS.max_decodes)


def decode_image(
    data: bytes,
    max_pixels: int = DEFAULTS.max_image_pixels,
    max_side: int = DEFAULTS.decode_max_side,
) -> DecodedImage:
    """Decode bytes into an upright 8-bit RGB array at most ``max_side``, or raise a typed error."""
    if not data:
        raise UnsupportedMedia("the file is empty")
    with _DECODES:
        return _decode(data, max_pixels, max_side)


def _decode(data: bytes, max_pixels: int, max_side: int) -> DecodedImage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = (image.format or "").upper()
            if fmt not in ALLOWED_FORMATS:
                raise UnsupportedMedia(f"unsupported image format {fmt or 'unknown'}")
            width, height = image.size
            # Checked from the header, before any pixel is decoded.
            if width * height > max_pixels:
                raise TooLarge(
                    f"image is {width}x{height} pixels; the limit is {max_pixels} pixels"
                )
            if width < 1 or height < 1:
                raise UnsupportedMedia("image has no pixels")
            image.seek(0)  # first frame of an animation
            if fmt == "JPEG" and max(width, height) > max_side:
                # DCT scaling: decoded straight at 1/2, 1/4 or 1/8 size, never in full.
                image.draft(
                    "RGB",
                    (
                        width * max_side // max(width, height),
                        height * max_side // max(width, height),
                    ),
                )
            image.load()
            reduced = _reduce(image, max_side)
            upright: Image.Image = ImageOps.exif_transpose(reduced) or reduced
            rgb = _to_rgb(upright)
    except (TooLarge, UnsupportedMedia):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("image has too many pixels") from None
    except UnidentifiedImageError:
        raise UnsupportedMedia("the file is not a decodable image") from None
    except ValueError as exc:
        if _TEXT_BOMB.search(str(exc)):  # a compressed text chunk that inflates past the limit
            raise TooLarge("the image's text metadata is too large") from None
        raise UnsupportedMedia(
            f"the image could not be decoded ({exc.__class__.__name__})"
        ) from None
    except (OSError, SyntaxError, EOFError, struct.error) as exc:
        raise UnsupportedMedia(
            f"the image could not be decoded ({exc.__class__.__name__})"
        ) from None
    return DecodedImage(rgb=rgb, format=fmt)


def _reduce(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink a decoded picture larger than ``max_side`` before any conversion copies it."""
    longest = max(image.size)
    if longest <= max_side:
        return image
    factor = -(-longest // max_side)  # ceil: the result is at most max_side
    if image.mode in ("L", "RGB", "RGBA", "LA", "I", "F", "CMYK", "I;16"):
        reduced = image.reduce(factor)
    else:  # palettes: keep the palette
        size = (max(1, image.width // factor), max(1, image.height // factor))
        reduced = image.resize(size, Image.Resampling.NEAREST)  # info (EXIF) is kept
    return reduced


def _to_rgb(image: Image.Image) -> RGB:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        gray = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
    if mode == "F":
        arr = np.asarray(image, dtype=np.float64)
        gray = np.clip(arr, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if mode == "CMYK":
        image = image.convert("RGB")
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)


def downscale(rgb: RGB, max_side: int) -> tuple[RGB, float]:
    """Shrink so the longer side is at most ``max_side``; return the image and its scale."""
    h, w = rgb.shape[:2]
    longest = max(h, w)
    if longest <= max_side:
        return rgb, 1.0
    scale = max_side / longest
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.uint8), scale


def encode_jpeg(rgb: RGB, quality: int = 90) -> bytes:
    """Re-encode as a clean JPEG: no EXIF, no GPS, no ICC, no comments."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
