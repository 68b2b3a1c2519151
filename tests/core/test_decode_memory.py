"""Decoding is bounded in memory: a 40 MP picture never costs a worker more than 600 MB."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from huchu.config import DEFAULTS
from huchu.imaging.decode import decode_image

PEAK_MB = 600

# One worker's whole life on one picture: the engine, then decode, analyse and draw.
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent (pytest).
WORKER = """
import sys
from huchu.analysis import EngineSpec, analyze_and_render
from huchu.config import Settings
from huchu.engines.factory import build_engine
from huchu.imaging.render import RenderSpec
settings = Settings(engine="dlib")
engine = build_engine("dlib", settings.models_dir)
data = open(sys.argv[1], "rb").read()
analysis, _ = analyze_and_render(
    engine, EngineSpec.from_settings(settings), data, RenderSpec("default", 0.75, 40)
)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(analysis.width, analysis.height, int(hwm.split()[1]) // 1024)
"""


def big_pictures(folder: Path) -> dict[str, Path]:
    """A 30 KB GIF and a small PNG of 6300x6300, and a 40 MP JPEG (all under the pixel limit)."""
    out = {}
    gif = Image.new("P", (6300, 6300), 3)
    out["gif"] = folder / "big.gif"
    gif.save(out["gif"], "GIF")
    Image.new("RGB", (6300, 6300), (200, 180, 160)).save(folder / "big.png", "PNG")
    out["png"] = folder / "big.png"
    noise = np.random.default_rng(0).integers(0, 255, (570, 700, 3), dtype=np.uint8)
    Image.fromarray(noise).resize((7000, 5700)).save(folder / "big.jpg", "JPEG", quality=85)
    out["jpg"] = folder / "big.jpg"
    return out


def test_large_pictures_are_reduced_while_decoding(tmp_path: Path) -> None:
    for path in big_pictures(tmp_path).values():
        decoded = decode_image(path.read_bytes())
        assert max(decoded.width, decoded.height) <= DEFAULTS.decode_max_side
        assert max(decoded.width, decoded.height) >= DEFAULTS.decode_max_side // 2
    small = io.BytesIO()
    Image.new("RGB", (640, 480)).save(small, "JPEG")
    assert decode_image(small.getvalue()).width == 640  # small pictures keep their size


def test_worker_peak_memory_on_40_megapixels(tmp_path: Path) -> None:
    for kind, path in big_pictures(tmp_path).items():
        out = subprocess.run(
            [sys.executable, "-c", WORKER, str(path)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        width, height, peak = (int(v) for v in out.stdout.split())
        print(f"{kind}: decoded {width}x{height}, worker peak {peak} MB")
        assert peak <= PEAK_MB, (kind, peak)


def test_a_large_phone_photo_is_reduced_and_still_upright() -> None:
    # Stored sideways (wide) with EXIF orientation 6, as phones do; PNG has no draft mode,
    # so the picture is reduced after decoding and must keep its orientation tag.
    stored = Image.new("RGB", (7200, 5400), (120, 90, 60))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, "PNG", exif=exif.tobytes())
    decoded = decode_image(buf.getvalue())
    assert max(decoded.width, decoded.height) <= DEFAULTS.decode_max_side
    assert decoded.height > decoded.width  # upright: a portrait
