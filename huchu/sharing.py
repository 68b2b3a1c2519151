"""Sharing an event: its QR code (the participant page) and each face's share card."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, replace
from typing import Literal
from urllib.parse import urlencode

from huchu import events
from huchu.config import DEFAULT_EVENT
from huchu.context import Context
from huchu.errors import NotFound
from huchu.game.standing import standing
from huchu.game.state import current
from huchu.imaging.card import CardText, share_card
from huchu.photos import catalog
from huchu.schemas import Standing

Lang = Literal["ko", "en"]

WORDS: dict[str, dict[str, str]] = {
    "ko": {
        "headline": "다른 참가자 {pct}%보다 우리의 평균에 가까워요",
        "closest": "{people}명 중 우리의 평균에 가장 가까워요",
        "ranked": "우리의 평균에 {people}명 중 {rank}번째로 가까워요",
        "first": "우리의 평균을 처음 만든 얼굴",
        "waiting": "곧 평균 얼굴이 나와요",
        "rank": "{people}명 중 {rank}위",
        "provisional": "{people}명 중 {rank}위 · 다음 집계 전 잠정 순위",
        "provisional_only": "다음 집계 전 잠정 순위",
        "counted": "지난 집계 기준",
        "unranked": "첫 집계를 기다리는 중",
        "you": "나",
        "average": "우리의 평균 얼굴",
        "average_female": "우리의 평균 여성",
        "average_male": "우리의 평균 남성",
        "lookalike": "가장 닮은 사람 · 닮음 {pct}%",
        "no_lookalike": "아직 닮은 사람이 없어요",
        "footer": "후추 · 우리를 닮은 얼굴",
    },
    "en": {
        "headline": "Closer to our average than {pct}% of the others",
        "closest": "Closest to our average of all {people}",
        "ranked": "#{rank} of {people} closest to our average",
        "first": "The first face of our average",
        "waiting": "Our average face is coming soon",
        "rank": "#{rank} of {people}",
        "provisional": "#{rank} of {people} · provisional until the next count",
        "provisional_only": "provisional until the next count",
        "counted": "as of the last count",
        "unranked": "Waiting for the first count",
        "you": "Me",
        "average": "Our average face",
        "average_female": "Our average woman",
        "average_male": "Our average man",
        "lookalike": "Best look-alike · {pct}% alike",
        "no_lookalike": "No look-alike yet",
        "footer": "Huchu · the face that represents us",
    },
}


def participant_url(ctx: Context, event: str, base: str) -> str:
    """The participant page of an event: ``HUCHU_SITE_URL`` or, unset, ``base``."""
    site = (ctx.settings.site_url or base).rstrip("/")
    query = "" if event == DEFAULT_EVENT else "?" + urlencode({"event": event})
    return f"{site}/index.html{query}"


def qr_svg(ctx: Context, event: str, base: str) -> bytes:
    """An SVG QR code of the event's participant page (medium error correction)."""
    import segno

    events.require(ctx, event)
    code = segno.make_qr(participant_url(ctx, event, base), error="m")
    buf = io.BytesIO()
    code.save(buf, kind="svg", scale=10, border=4, xmldecl=False, svgns=True, title="QR")
    return buf.getvalue()


def card_text(ctx: Context, face_id: str, lang: Lang) -> tuple[CardText, dict[str, str | None]]:
    """The card's words in ``lang`` and the keys of its pictures."""
    w = WORDS[lang]
    point = catalog.face_point(ctx, face_id)
    event = point.payload["event"]
    found = standing(ctx, face_id, lookalikes=1)
    best = found.lookalikes[0] if found.lookalikes else None
    text = CardText(
        event=events.name(ctx, event),
        headline=_headline(w, found),
        rank=_rank_line(w, found),
        you=w["you"],
        average=w["average"],
        lookalike=w["no_lookalike"]
        if best is None
        else w["lookalike"].format(pct=best.resemblance),
        footer=w["footer"],
    )
    snap = current(ctx, event)
    images = {} if snap is None else snap.get("images", {})
    # The face's own cohort as a person (its template portrait) where there is one; else
    # the plain average of everyone.
    gender = point.payload.get("gender")
    average = images.get(gender, {}).get("portrait") if gender in ("female", "male") else None
    if average is not None:
        text = replace(text, average=w[f"average_{gender}"])
    else:
        average = images.get("all", {}).get("image")
    look = None
    if best is not None:
        look = catalog.face_point(ctx, best.face.face_id).payload.get("portrait_key")
    keys = {"portrait": point.payload.get("portrait_key"), "average": average, "lookalike": look}
    return text, keys


# Bump when the card's drawing changes, so that no cache serves an old design.
CARD_DESIGN = 1


@dataclass(frozen=True)
class CardParts:
    """Everything a card shows: its words and its three pictures (None where there is none)."""

    text: CardText
    portrait: bytes | None
    average: bytes | None
    lookalike: bytes | None

    def digest(self, kind: str) -> str:
        """Equal digests draw equal cards: a cache key and the card's ETag. The pictures are
        hashed by content, so a picture redrawn under its old key (after a delete) counts."""
        h = hashlib.sha256(json.dumps([CARD_DESIGN, kind, asdict(self.text)]).encode())
        for picture in (self.portrait, self.average, self.lookalike):
            h.update(b"-" if picture is None else hashlib.sha256(picture).digest())
        return h.hexdigest()[:32]


def card_parts(ctx: Context, face_id: str, lang: Lang) -> CardParts:
    """What the face's card shows now (a few reads: cheap next to drawing it)."""
    text, keys = card_text(ctx, face_id, lang)
    portrait, average, look = (_get(ctx, keys[k]) for k in ("portrait", "average", "lookalike"))
    return CardParts(text, portrait, average, look)


def render_card(parts: CardParts, kind: str) -> bytes:
    """Draw the card: the costly part (a second or more of CPU)."""
    return share_card(parts.portrait, parts.average, parts.lookalike, parts.text, kind)


def card(ctx: Context, face_id: str, lang: Lang, kind: str = "png") -> bytes:
    """The 1080x1350 share card of a face, as ``png`` or ``jpeg``."""
    return render_card(card_parts(ctx, face_id, lang), kind)


def _get(ctx: Context, key: str | None) -> bytes | None:
    if key is None:
        return None
    try:
        return ctx.objects.get(key)
    except NotFound:
        return None


def _rank_line(w: dict[str, str], found: Standing) -> str:
    """The line under the headline: the rank where the headline gave a share; where the
    headline already says the rank, only whether it is provisional (never said twice)."""
    if found.rank is None:
        return w["unranked"]
    if found.closer_than is not None and 1 < found.rank < found.people:
        key = "provisional" if found.provisional else "rank"
        return w[key].format(rank=found.rank, people=found.people)
    return w["provisional_only" if found.provisional else "counted"]


def _headline(w: dict[str, str], found: Standing) -> str:
    """Closeness to the average as a standing in the event, never as a raw cosine: first
    place reads "closest of all N", a share only where N makes it meaningful."""
    if found.score is None or found.rank is None:
        return w["waiting"]
    if found.people < 2:
        return w["first"]
    if found.rank == 1:
        return w["closest"].format(people=found.people)
    if found.closer_than is not None and found.rank < found.people:
        return w["headline"].format(pct=found.closer_than)
    return w["ranked"].format(rank=found.rank, people=found.people)
