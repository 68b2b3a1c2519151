"""Make the template portraits that ship in ``huchu/game/render/portraits/``.

Each is cut from a public-domain photo (see that folder's README.md) to an ID-photo
framing (face about 45% of the width, eyes at 40% of the height, 4:5) at the size the
averages are shown (768x960; the pair 1536x960), so the average's face is placed at full
resolution. Run from the repository root once the sources are on disk:

    python scripts/make_portraits.py --biden PATH/biden.jpg

(``biden.jpg`` is in the ``face_recognition==1.3.0`` source distribution,
``tests/test_images/``; the astronaut comes with scikit-image.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from huchu.engines.bundled import BundledEngine
from huchu.game.render.shape import H, W

OUT = Path(__file__).resolve().parents[1] / "huchu" / "game" / "render" / "portraits"
FACE_WIDTH, EYES_AT = 0.45, 0.40


def framed(rgb: np.ndarray, engine: BundledEngine) -> Image.Image:
    face = max(engine.detect(rgb), key=lambda f: f.face_px)
    lm = np.asarray(face.landmarks)
    eyes = lm[36:48].mean(axis=0)
    width = (lm[16, 0] - lm[0, 0]) / FACE_WIDTH
    h, w = rgb.shape[:2]
    width = min(width, w, h * W / H)  # never wider than the photo allows
    height = width * H / W
    x0 = float(np.clip(eyes[0] - width / 2, 0, w - width))
    y0 = float(np.clip(eyes[1] - EYES_AT * height, 0, h - height))
    box = (round(x0), round(y0), round(x0 + width), round(y0 + height))
    return Image.fromarray(rgb).crop(box).resize((W, H), Image.Resampling.LANCZOS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--biden", type=Path, required=True)
    args = ap.parse_args()
    from skimage import data

    engine = BundledEngine()
    female = framed(np.asarray(data.astronaut()), engine)
    male = framed(np.asarray(Image.open(args.biden).convert("RGB")), engine)
    pair = Image.new("RGB", (2 * W, H))
    pair.paste(female, (0, 0))
    pair.paste(male, (W, 0))
    for name, pic in (("female", female), ("male", male), ("pair", pair)):
        pic.save(OUT / f"{name}.jpg", quality=90, optimize=True, progressive=True)
        print(name, pic.size, (OUT / f"{name}.jpg").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
