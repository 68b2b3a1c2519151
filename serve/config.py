"""Resources and autoscaling for the Ray Serve deployments (``HUCHU_SERVE_*``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUCHU_SERVE_", extra="ignore")

    detector_gpus: float = 0.0
    detector_cpus: float = 1.0
    swap_gpus: float = 0.0
    min_replicas: int = 1
    max_replicas: int = 4
    target_ongoing_requests: int = 4
    max_batch_size: int = 8
