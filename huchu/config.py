"""Settings for every deployable, read from ``HUCHU_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["auto", "insightface", "dlib"]
BundledDetector = Literal["retinaface", "hog"]
# The whole string (no trailing newline): JSON Schema and Rust-regex anchors, not Python's ``$``.
EVENT_PATTERN = r"^[a-z0-9-]{1,40}$"
DEFAULT_EVENT = "default"
MAX_PAGE = 100

_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "admin", "password", "token"}
# An admin token anyone can guess in a few tries is refused at start: at least this long,
# with at least this many different characters (a hex string of 16 has ~64 bits).
MIN_ADMIN_TOKEN_CHARS = 16
MIN_ADMIN_TOKEN_DISTINCT = 8
TOKEN_ADVICE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class Settings(BaseSettings):
    """One settings object; every value has a working default for the embedded mode."""

    model_config = SettingsConfigDict(env_prefix="HUCHU_", extra="ignore")

    data_dir: Path = Path("./data")
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    graph_url: str | None = None  # a FalkorDB server; unset: an embedded one in the data dir
    graph_password: str | None = None  # that server's password (AUTH), kept out of the URL
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str | None = None
    s3_public_endpoint: str | None = None  # the S3 endpoint browsers reach (presigned URLs)
    engine: EngineName = "auto"
    bundled_detector: BundledDetector = "retinaface"
    models_dir: Path = Path("./models")
    inference_url: str | None = None
    min_det_score: float = Field(0.75, ge=0.0, le=1.0)
    min_face_px: int = Field(24, ge=1)
    admin_token: str | None = None
    recompute_seconds: int = Field(300, ge=0)
    cors_origins: str | None = None
    # Comma-separated addresses/CIDRs whose X-Forwarded-For is believed; unset means none.
    trusted_proxies: str | None = None
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(40_000_000, ge=1)
    analysis_max_side: int = Field(1600, ge=64)
    # Larger pictures are reduced while they are decoded (JPEG draft mode, Image.reduce):
    # the stored original is at most this, and a decode never holds a 40 MP bitmap twice.
    decode_max_side: int = Field(2560, ge=256)
    # Uploads stop (503) while the data volume has less free space than this: the embedded
    # databases map their files into memory, and a write to a full disk there is a crash.
    min_free_bytes: int = Field(64 * 1024 * 1024, ge=0)
    max_decodes: int = Field(2, ge=1)
    rate_limit_per_minute: int = Field(60, ge=0)
    # Wrong admin tokens a client may send in a minute before its admin calls answer 429.
    admin_failures_per_minute: int = Field(10, ge=0)
    # Share cards a client may have drawn in a minute (a cached card costs nothing).
    cards_per_minute: int = Field(12, ge=0)
    url_secret: str | None = None
    public_base_url: str = ""
    # The participant page's public address, for event QR codes and share cards.
    site_url: str | None = None
    # Averages weigh each person once (``person``) or each face once (``face``).
    average_by: Literal["person", "face"] = "person"
    production: bool = False
    # Behind CloudFront (AWS): the header value it adds to every API request (X-Huchu-Origin);
    # when set, requests without it are refused, so nobody goes around the web ACL.
    origin_secret: str | None = None
    origin_required: bool = False  # Terraform sets it: production then needs origin_secret

    @field_validator("admin_token", "url_secret", "origin_secret", "graph_password")
    @classmethod
    def _refuse_placeholders(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() in _PLACEHOLDER_SECRETS:
            raise ValueError("refusing a placeholder secret; set a real random value")
        return value

    @field_validator("admin_token")
    @classmethod
    def _refuse_weak_admin_token(cls, value: str | None) -> str | None:
        if not value:
            return value  # unset or empty: admin calls are disabled
        if len(value) < MIN_ADMIN_TOKEN_CHARS or len(set(value)) < MIN_ADMIN_TOKEN_DISTINCT:
            raise ValueError(
                f"HUCHU_ADMIN_TOKEN is too weak: use at least {MIN_ADMIN_TOKEN_CHARS} random"
                f" characters (at least {MIN_ADMIN_TOKEN_DISTINCT} different ones), e.g."
                f" {TOKEN_ADVICE}"
            )
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        if not self.cors_origins:
            return []
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def uses_s3(self) -> bool:
        return bool(self.s3_bucket)

    @property
    def uses_data_dir(self) -> bool:
        """Something lives in the data dir: files, the embedded shard or the embedded graph."""
        return not (self.uses_s3 and self.qdrant_url and self.graph_url)

    def check_production(self) -> None:
        """Refuse to start a production deployment that relies on embedded secrets or keeps
        a store of its own: every instance must share the vectors, the graph and the files."""
        if not self.production:
            return
        needs: list[tuple[str, str | None, str]] = [
            ("HUCHU_URL_SECRET", self.url_secret, "signs links the same way on every instance"),
            ("HUCHU_QDRANT_URL", self.qdrant_url, "the vectors; else each instance keeps its own"),
            ("HUCHU_GRAPH_URL", self.graph_url, "the graph; else each instance starts its own"),
            ("HUCHU_S3_BUCKET", self.s3_bucket, "the images; else each keeps them in its data dir"),
        ]
        if self.origin_required:
            needs.append(("HUCHU_ORIGIN_SECRET", self.origin_secret, "CloudFront's origin header"))
        missing = [(name, why) for name, value, why in needs if not (value and value.strip())]
        if missing:
            names = ", ".join(name for name, _ in missing)
            reasons = "; ".join(f"{name}: {why}" for name, why in missing)
            raise ValueError(f"production mode needs {names} ({reasons})")


# The defaults themselves (no environment read): for plain functions' keyword defaults.
DEFAULTS = Settings.model_construct()
