"""The one decoder: formats, orientation, bombs and odd pixel modes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from huchu.errors import HuchuError, TooLarge, UnsupportedMedia
from huchu.imaging.decode import decode_image, downscale, encode_jpeg
from tests import malformed


def test_broken_inputs_raise_typed_errors(photos: dict[str, bytes]) -> None:
    for name, (data, code) in malformed.broken(photos["obama.jpg"]).items():
        if code == "no_face":
            assert decode_image(data).width == 1, name
            continue
        with pytest.raises(HuchuError) as info:
            decode_image(data)
        assert info.value.code == code, name


def test_bomb_is_refused_from_the_header_alone() -> None:
    with pytest.raises(TooLarge):
        decode_image(malformed.png_bomb())


def test_odd_modes_become_rgb(photos: dict[str, bytes]) -> None:
    for name, data in malformed.variants(photos["obama.jpg"]).items():
        img = decode_image(data)
        assert img.rgb.ndim == 3 and img.rgb.shape[2] == 3, name
        assert img.rgb.dtype.name == "uint8", name
        assert img.rgb.mean() > 20, name  # 16-bit not clipped to black or white
        assert img.rgb.mean() < 235, name


def test_exif_orientation_is_applied(photos: dict[str, bytes]) -> None:
    upright = Image.open(io.BytesIO(photos["obama.jpg"]))
    img = decode_image(malformed.phone_photo(photos["obama.jpg"]))
    assert (img.width, img.height) == upright.size


def test_reencoded_jpeg_carries_no_exif(photos: dict[str, bytes]) -> None:
    img = decode_image(malformed.phone_photo(photos["obama.jpg"]))
    clean = Image.open(io.BytesIO(encode_jpeg(img.rgb)))
    assert not clean.getexif()
    assert 0x8825 not in clean.getexif()


def test_downscale_caps_the_longer_side(photos: dict[str, bytes]) -> None:
    img = decode_image(photos["obama3.jpg"])
    small, scale = downscale(img.rgb, 800)
    assert max(small.shape[:2]) == 800
    assert scale == pytest.approx(800 / max(img.width, img.height))


def test_unknown_format_is_unsupported() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="TIFF")
    with pytest.raises(UnsupportedMedia):
        decode_image(buf.getvalue())
