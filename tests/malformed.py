"""Hostile and odd inputs the tests make themselves (TESTDATA.md)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_text_bomb(inflated: int = 50 * 1024 * 1024) -> bytes:
    """A 1x1 PNG whose compressed text chunk (zTXt) inflates to ``inflated`` bytes."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    packer = zlib.compressobj(9)
    block = b"a" * (1024 * 1024)
    text = b"".join(packer.compress(block) for _ in range(inflated // len(block)))
    text += packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"zTXt", b"Comment\x00\x00" + text)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\xc8\x96\x78"))
        + _png_chunk(b"IEND", b"")
    )


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def phone_photo(jpeg: bytes) -> bytes:
    """The photo stored sideways with EXIF orientation 6 and GPS tags, as phones do."""
    upright = Image.open(io.BytesIO(jpeg)).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor wrote
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "HuchuPhone"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (37.0, 33.0, 12.5)
    gps[3] = "E"
    gps[4] = (126.0, 58.0, 40.0)
    return encode(stored, "JPEG", exif=exif.tobytes(), quality=92)


def variants(face_jpeg: bytes) -> dict[str, bytes]:
    """Odd but valid encodings of a photo with a face: each must still be analysed."""
    rgb = Image.open(io.BytesIO(face_jpeg)).convert("RGB")
    gray16 = Image.fromarray(
        (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    )
    rgba = rgb.convert("RGBA")
    frames = [rgb.convert("P"), rgb.rotate(180).convert("P")]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return {
        "cmyk.jpg": encode(rgb.convert("CMYK"), "JPEG", quality=92),
        "gray16.png": encode(gray16, "PNG"),
        "rgba.png": encode(rgba, "PNG"),
        "gray.jpg": encode(rgb.convert("L"), "JPEG", quality=92),
        "animated.gif": gif.getvalue(),
        "webp.webp": encode(rgb, "WEBP", quality=90),
        "phone.heic": encode(rgb, "HEIF", quality=90),
        "phone.jpg": phone_photo(face_jpeg),
    }


def broken(face_jpeg: bytes) -> dict[str, tuple[bytes, str]]:
    """Inputs with the contract error code they must get at upload."""
    return {
        "empty.jpg": (b"", "unsupported_media_type"),
        "text.jpg": (b"this is not an image, only text named .jpg\n" * 3, "unsupported_media_type"),
        "truncated.jpg": (face_jpeg[: len(face_jpeg) // 3], "unsupported_media_type"),
        "bomb.png": (png_bomb(), "too_large"),
        "text_bomb.png": (png_text_bomb(), "too_large"),
        "one_pixel.png": (encode(Image.new("RGB", (1, 1), (200, 150, 120)), "PNG"), "no_face"),
    }
