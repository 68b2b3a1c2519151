"""ID-card portraits: each face aligned on its eyes, in a card with event and number."""

from __future__ import annotations

import cv2
import numpy as np

from huchu.engines.base import RGB, Face

CARD_W, CARD_H = 240, 320
PHOTO_H = 272
# Where the eyes land in the portrait (fractions of the photo area).
EYE_Y, EYE_DX = 0.42, 0.14


def align(rgb: RGB, face: Face, width: int = CARD_W, height: int = PHOTO_H) -> RGB:
    """Similarity warp that puts both eyes level at fixed positions."""
    (lx, ly), (rx, ry) = face.kps[0], face.kps[1]
    src = np.array([[lx, ly], [rx, ry]], dtype=np.float64)
    dst = np.array(
        [[width * (0.5 - EYE_DX), height * EYE_Y], [width * (0.5 + EYE_DX), height * EYE_Y]],
        dtype=np.float64,
    )
    m = _similarity(src, dst)
    out: RGB = cv2.warpAffine(  # type: ignore[assignment]
        np.ascontiguousarray(rgb),
        m,
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out


def card(rgb: RGB, face: Face, event: str, number: int) -> RGB:
    """The aligned face above a strip with the event name and the face number."""
    out = np.full((CARD_H, CARD_W, 3), 250, np.uint8)
    out[:PHOTO_H] = align(rgb, face)
    accent = (255, 105, 180) if face.gender == "female" else (40, 170, 90)
    out[PHOTO_H : PHOTO_H + 4] = accent
    out = _event_name(out, event)
    label = f"#{number}"
    (tw, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
    cv2.putText(
        out,
        label,
        (CARD_W - tw - 10, CARD_H - 15),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.6,
        accent,
        2,
        cv2.LINE_AA,
    )
    return out


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    sv, dv = src[1] - src[0], dst[1] - dst[0]
    s_len = float(np.hypot(*sv)) or 1.0
    scale = float(np.hypot(*dv)) / s_len
    angle = np.arctan2(dv[1], dv[0]) - np.arctan2(sv[1], sv[0])
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    rot = np.array([[c, -s], [s, c]], np.float64)
    t = dst[0] - rot @ src[0]
    return np.hstack([rot, t[:, None]]).astype(np.float64)


def _event_name(out: RGB, name: str) -> RGB:
    """The event's name in the strip, in a font with Hangul (cv2's fonts have none)."""
    from PIL import Image, ImageDraw

    from huchu.imaging.fonts import font

    img = Image.fromarray(out)
    draw = ImageDraw.Draw(img)
    f = font(17)
    text = name
    while text and draw.textlength(text, font=f) > CARD_W - 70:
        text = text[:-1]
    if text != name:
        text = text[:-1] + "…"
    draw.text((10, CARD_H - 34), text, font=f, fill=(40, 40, 40))
    return np.array(img, dtype=np.uint8)  # writable: the number is drawn on it next
