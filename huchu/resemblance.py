"""One resemblance scale for every engine: a cosine read as 0-100, and a standing as a percentile.

Raw cosines mean different things per engine: with the bundled dlib descriptor strangers
sit around 0.84 and the same person above 0.92; with insightface's ArcFace strangers sit
near 0 and the same person above 0.4. Each engine publishes two thresholds
(``EngineInfo.thresholds``): ``same_person`` and ``lookalike`` (the closest strangers).
Their gap is the engine's unit: one gap below the look-alike threshold is where a typical
stranger sits for both engines (bundled 0.88 - 0.038 = 0.842, the median of its
different-person pairs; insightface 0.2 - 0.2 = 0.0). The scale is logistic, piecewise in
that unit, through three anchors:

==========================  =============  =========
cosine                      bundled        reads
==========================  =============  =========
lookalike - gap (stranger)  0.842          20
lookalike                   0.88           65
same_person                 0.918          90
==========================  =============  =========

Between and beyond the anchors the logit runs linearly (the outer slopes extend), so the
scale rises steadily, never decreases and stays inside 0-100. The closeness of a face to
the average (the cosine to a mean of many faces, which is not a face) is not read on this
scale: it is shown as a standing, a rank ("#3 of 12") and, from ``PERCENT_FROM`` people
on, the share of the event's other people farther from the average (``closer_than``).
"""

from __future__ import annotations

import math

from huchu.engines.base import Thresholds

# (position in gaps above the look-alike threshold, resemblance there)
STRANGER, LOOKALIKE, SAME_PERSON = 20.0, 65.0, 90.0
_ANCHORS = ((-1.0, STRANGER), (0.0, LOOKALIKE), (1.0, SAME_PERSON))
# A gap this small or negative would make the scale a step: thresholds that close mean a
# miscalibrated engine, so the unit never falls below it.
MIN_GAP = 0.01


def _logit(p: float) -> float:
    return math.log(p / (100.0 - p))


def resemblance_of(score: float, thresholds: Thresholds) -> float:
    """The cosine ``score`` on the 0-100 scale (unrounded)."""
    gap = max(thresholds.same_person - thresholds.lookalike, MIN_GAP)
    z = (score - thresholds.lookalike) / gap
    (z0, r0), (z1, r1), (z2, r2) = _ANCHORS
    l0, l1, l2 = _logit(r0), _logit(r1), _logit(r2)
    if z <= z1:
        logit = l1 + (z - z1) * (l1 - l0) / (z1 - z0)
    else:
        logit = l1 + (z - z1) * (l2 - l1) / (z2 - z1)
    logit = max(-50.0, min(50.0, logit))
    return 100.0 / (1.0 + math.exp(-logit))


def resemblance(score: float, thresholds: Thresholds) -> int:
    """The cosine ``score`` as the whole percentage a participant sees (0-100).

    Read from the score as the JSON shows it (four decimals, ``huchu.schemas.Round4``), so
    the two never disagree at a rounding edge.
    """
    return max(0, min(100, round(resemblance_of(round(score, 4), thresholds))))


# A share of the others is given from this many people on: with fewer, "closer than 0% of
# the others" reads as a verdict where a rank ("#4 of 4") reads as what it is.
PERCENT_FROM = 10


def closer_than(rank: int, people: int) -> int | None:
    """The share (0-100) of the other people farther from the average than rank ``rank``.

    ``None`` under ``PERCENT_FROM`` people (pages show the rank alone then).
    """
    if people < PERCENT_FROM or rank < 1:
        return None
    return max(0, min(100, round(100 * (people - min(rank, people)) / (people - 1))))
