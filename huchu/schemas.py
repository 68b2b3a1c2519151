"""Every answer of the contract as one Pydantic model: routes, fragments and the CLI use them.

Numbers are rounded once, here (``Round4`` etc.), so a face reads the same wherever it is shown.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    StrictBool,
    field_validator,
)

from huchu.config import EVENT_PATTERN


def _rounder(digits: int) -> PlainSerializer:
    return PlainSerializer(lambda v: None if v is None else round(v, digits), return_type=float)


Round1 = Annotated[float, _rounder(1)]
Round4 = Annotated[float, _rounder(4)]
Gender = Literal["female", "male"]
Cohort = Literal["female", "male", "all"]
Reason = Literal["low_score", "too_small", "cut_off", "turned_away", "blurry", "background"]
Event = Annotated[str, Field(pattern=EVENT_PATTERN, examples=["default"])]
Box = Annotated[list[Round1], Field(min_length=4, max_length=4)]
Percent = Annotated[int, Field(ge=0, le=100)]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorDetail(Model):
    code: str = Field(examples=["not_found"])
    message: str


class ErrorBody(Model):
    """Every error: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


class FaceStanding(Model):
    """Where a face's person stands in its cohort, by closeness to the current average."""

    cohort: Cohort
    rank: int = Field(ge=1, description="1 is the closest to the average")
    of: int = Field(ge=1, description="the people ranked in the cohort")
    closer_than: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="the share of the cohort's other people farther from the average; "
        "null under 10 people, where a rank says more than a share",
    )
    provisional: bool = Field(
        description="true until a recompute has counted the face (ranked against the "
        "current average at once)"
    )


class PhotoFace(Model):
    """A face as found in a photo, numbered from 1 in reading order; faces that do not
    count have no id, no portrait and no gender or age, and say why (``reason``)."""

    face_id: str | None
    index: int
    bbox: Box
    det_score: Round4
    gender: Gender | None
    age: Round1 | None
    accepted: bool
    reason: Reason | None
    portrait_url: str | None
    standing: FaceStanding | None = None


class Photo(Model):
    photo_id: str
    event: Event
    title: str | None
    created_at: str
    image_url: str | None
    annotated_url: str | None
    width: int | None = None
    height: int | None = None
    faces: list[PhotoFace]


class UploadedPhoto(Photo):
    """The upload's answer: the photo, and the owner token when one was issued now."""

    owner_token: str | None = Field(None, description="only when newly issued")

    def unset(self) -> set[str]:
        """Fields the answer leaves out: the token unless it was issued now."""
        return {"owner_token"} if self.owner_token is None else set()


class Face(Model):
    face_id: str
    photo_id: str
    index: int
    gender: Gender | None
    age: Round1 | None
    det_score: Round4
    portrait_url: str | None
    created_at: str


class FaceDetail(Face):
    photo: Photo
    standing: FaceStanding | None = None


class PhotoPage(Model):
    items: list[Photo]
    next_cursor: str | None


class FacePage(Model):
    items: list[Face]
    next_cursor: str | None


class SimilarItem(Model):
    face: Face
    score: Round4
    same_photo: bool
    resemblance: Percent = Field(
        description="the score on the engine's calibrated 0-100 scale, as the pages show it "
        "(a typical stranger about 20, the look-alike threshold 65, the same-person threshold 90)",
    )


class Similar(Model):
    face_id: str | None
    items: list[SimilarItem]


class QueryFace(Model):
    """The face a look-alike search was made for (never stored)."""

    bbox: Box
    gender: Gender | None
    age: Round1 | None


class Lookalikes(Similar):
    face: QueryFace


class GraphNode(Model):
    id: str
    portrait_url: str | None
    gender: Gender | None
    label: str
    photo_id: str | None = None
    cluster: int | None = None
    family: str | None = Field(None, description="the face's hidden family (community)")


class GraphEdge(Model):
    source: str
    target: str
    score: Round4


class FaceGraph(Model):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    min_score: float


class Cluster(Model):
    id: int
    size: int
    members: list[str]


class Family(Model):
    """A face's hidden family: its community in the look-alike graph, never the face."""

    face_id: str
    family_id: str
    items: list[Face]


class FacePath(Model):
    """The shortest chain of look-alike links from one face to another, both included;
    ``scores[i]`` is the link between ``items[i]`` and ``items[i + 1]``."""

    items: list[Face]
    scores: list[Round4]
    resemblances: list[Percent] = Field(
        default_factory=list, description="each link's score on the calibrated 0-100 scale"
    )


class EventGraph(FaceGraph):
    """The event-wide look-alike graph of one version."""

    event: Event
    k: int
    truncated: bool
    clusters: list[Cluster]


class CohortAverage(Model):
    cohort: Cohort
    count: int
    people: int = Field(0, description="distinct persons; the average weighs each once")
    mean_age: float | None
    spread: float
    image_url: str | None
    timeline_url: str | None = None
    image_small_url: str | None = Field(
        None, description="the same picture at half the width and height (for phones)"
    )
    portrait_url: str | None = Field(
        None, description="the average placed into a template portrait (head, hair, shoulders)"
    )
    portrait_small_url: str | None = Field(
        None, description="the template portrait at half the width and height"
    )
    closest_face_id: str | None


class Averages(Model):
    event: Event
    version: int
    computed_at: str | None
    cohorts: list[CohortAverage]
    pair_image_url: str | None
    pair_image_small_url: str | None = Field(
        None, description="the pair picture at half the width and height"
    )
    pair_portrait_url: str | None = Field(
        None, description="the female and the male average together in a two-person template"
    )
    pair_portrait_small_url: str | None = Field(
        None, description="the pair portrait at half the width and height"
    )
    template_urls: dict[str, str | None] = Field(
        default_factory=dict, description="every template portrait of the version, by name"
    )


class HistoryItem(Model):
    version: int
    computed_at: str
    count: int
    image_url: str | None


class History(Model):
    items: list[HistoryItem]


class LeaderboardItem(Model):
    """A person, once: their best face, its closeness to the average, their photo count."""

    rank: int
    person_id: str
    face: Face
    score: Round4
    photos: int
    closer_than: Percent | None = Field(
        None,
        description="the share of the cohort's other people farther from the average (percent)",
    )


class Standing(Model):
    """Where one face stands: its closeness to its cohort's average and its person's rank."""

    face_id: str
    event: Event
    cohort: Cohort
    version: int
    score: Round4 | None
    rank: int | None
    people: int
    person_id: str | None
    lookalikes: list[SimilarItem] = Field(default_factory=list)
    closer_than: Percent | None = Field(
        None,
        description="the share of the cohort's other people farther from the average (percent); "
        "null before a version or when nobody else is ranked",
    )
    provisional: bool = Field(
        False, description="ranked against the current average before a recompute counted it"
    )


class EventSetup(Model):
    """What an admin sends to set up an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    open: StrictBool = True

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        """A date-time string with its zone, as documented; not a number of seconds."""
        if value is not None and not isinstance(value, str):
            raise ValueError("expected an ISO 8601 date-time string")
        return value


class EventInfo(Model):
    event: Event
    name: str
    starts_at: str | None
    ends_at: str | None
    open: bool
    photos: int
    faces: int
    people: int
    version: int


class Leaderboard(Model):
    version: int
    cohort: Cohort
    items: list[LeaderboardItem]


class Thresholds(Model):
    same_person: float
    lookalike: float


class Engine(Model):
    engine: str
    models: list[str]
    embedding_dim: int
    metric: str
    thresholds: Thresholds
    backend: str


class Embedding(Model):
    face_id: str
    engine: str | None
    embedding: list[float]


class Health(Model):
    status: Literal["ok"]


class Readiness(Model):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]
    missing: list[str] = Field(default_factory=list)
    error: ErrorDetail | None = None
    serving: bool = Field(
        True,
        description="Uploads, deletes and every read but the look-alike graph's still work: "
        "true when nothing but the graph is missing (keep the instance in rotation)",
    )


class AnalyzedFace(Model):
    """One face of ``huchu analyze --json``."""

    bbox: Box
    kps: list[list[Round1]]
    det_score: Round4
    gender: Gender | None
    age: Round1 | None
    landmarks: list[list[Round1]]
    pose: list[float] | None
    face_px: int
    sharpness: float
    engine: str
    model_id: str
    embedding: list[float] | None = None


class Analyzed(Model):
    """One line of ``huchu analyze --json``."""

    file: str
    engine: str
    width: int
    height: int
    faces: list[AnalyzedFace]


# Types the decoder takes; anything else is refused before a byte is sent.
IMAGE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/bmp",
    "image/tiff",
    "image/heic",
    "image/heif",
}


class UploadStart(Model):
    """``POST /api/uploads``: what the browser is about to send."""

    event: str = Field("default", pattern=EVENT_PATTERN)
    content_type: str = Field(
        description="the photo's media type (another type: 415)",
        json_schema_extra={"enum": list[JsonValue](sorted(IMAGE_TYPES))},
    )
    # Its maximum (HUCHU_MAX_UPLOAD_BYTES, a setting) is added to the app's OpenAPI.
    size: int = Field(ge=1, description="the exact number of bytes that will be sent (else 413)")


class UploadTicket(Model):
    """A presigned request that stores the photo under a staging key."""

    upload_id: str
    method: Literal["PUT"] = "PUT"
    url: str
    headers: dict[str, str]
    expires_at: str
