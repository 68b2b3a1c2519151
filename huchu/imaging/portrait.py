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
    """Similarity warp that puts both eyes level at fixed positions (one height, one scale).

    Where the frame runs past the photo's border (a face at the edge of a group photo), the
    missing part is a soft fill (``soft_fill``), never the border's pixels drawn out into
    streaks.
    """
    m = eye_transform(face, width, height)
    out: RGB = cv2.warpAffine(  # type: ignore[assignment]
        np.ascontiguousarray(rgb),
        m,
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    inside = coverage(m, rgb.shape[:2], (width, height))
    if inside.all():
        return out
    return soft_fill(out, inside)


def eye_transform(face: Face, width: int = CARD_W, height: int = PHOTO_H) -> np.ndarray:
    """The 2x3 similarity from the photo to the portrait that puts the eyes in place."""
    (lx, ly), (rx, ry) = face.kps[0], face.kps[1]
    src = np.array([[lx, ly], [rx, ry]], dtype=np.float64)
    dst = np.array(
        [[width * (0.5 - EYE_DX), height * EYE_Y], [width * (0.5 + EYE_DX), height * EYE_Y]],
        dtype=np.float64,
    )
    return _similarity(src, dst)


def coverage(m: np.ndarray, shape: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """Which portrait pixels (``size`` = width, height) the photo of ``shape`` covers."""
    width, height = size
    inv = cv2.invertAffineTransform(m)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
    sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    h, w = shape
    inside: np.ndarray = (sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)
    return inside


# Beyond the photo the fill keeps the nearby colours, blurred, and fades to the backdrop
# over this share of the portrait's width; the seam is feathered over SEAM pixels.
FADE, SEAM = 0.35, 4
BACKDROP = np.array([232.0, 228.0, 222.0], np.float32)


def soft_fill(img: RGB, inside: np.ndarray) -> RGB:
    """``img`` where ``inside``; elsewhere a blurred extension of it fading to a backdrop.

    The extension is push-pull: the covered pixels averaged over coarser and coarser
    scales, then filled back from coarse to fine, so it carries the colours near the
    border without any of their lines.
    """
    inside_f = inside.astype(np.float32)
    fill = push_pull(img.astype(np.float32), inside_f)
    dist = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, 5)
    fade = np.exp(-dist / (FADE * img.shape[1]))[..., None]
    fill = fade * fill + (1.0 - fade) * BACKDROP
    # Feather the seam inward so the photo's own edge does not show as a line.
    keep = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 5)
    alpha = np.clip(keep / SEAM, 0.0, 1.0)[..., None]
    out = alpha * img.astype(np.float32) + (1.0 - alpha) * fill
    result: RGB = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return result


def push_pull(img: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``img`` where ``weight`` (0-1) covers it; elsewhere filled from the covered pixels
    around, coarse to fine (no lines carried, no seam)."""
    sums, weights = [img * weight[..., None]], [weight]
    while min(weights[-1].shape) > 4:
        sums.append(cv2.pyrDown(sums[-1]))
        weights.append(cv2.pyrDown(weights[-1]))
    w = weights[-1][..., None]
    mean = sums[-1].reshape(-1, 3).sum(0) / max(float(weights[-1].sum()), 1e-6)
    est = np.where(w > 1e-6, sums[-1] / np.maximum(w, 1e-6), mean)
    for s, wt in zip(sums[-2::-1], weights[-2::-1], strict=True):
        up = cv2.pyrUp(est, dstsize=(wt.shape[1], wt.shape[0]))
        w = wt[..., None]
        here = s / np.maximum(w, 1e-6)
        # Trust a level's own average only where it is well covered.
        trust = np.clip(w * 2.0, 0.0, 1.0)
        est = trust * here + (1.0 - trust) * up
    filled: np.ndarray = est
    return filled


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
