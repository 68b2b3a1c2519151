"""The application's typed arguments (``args:`` in ``serve/config.yaml``, or ``key=val``)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AppArgs(BaseModel):
    """Replicas, GPUs, batching and autoscaling of the inference application."""

    model_config = ConfigDict(extra="forbid")

    # None: the replica reads HUCHU_ENGINE / HUCHU_MODELS_DIR when it starts.
    engine: str | None = None
    models_dir: str | None = None
    # None: the swapper joins when models_dir holds inswapper_128.onnx at build time.
    swap: bool | None = None

    detector_gpus: float = Field(0.0, ge=0.0)
    detector_cpus: float = Field(1.0, ge=0.0)
    swap_gpus: float = Field(0.0, ge=0.0)
    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(4, ge=1)
    # Scaling aims at this many requests per detector replica; None: the batch size. Below
    # it a replica never holds a full batch: at 2 with batches of 8, four replicas ran 81%
    # of requests in batches of one. max_ongoing_requests leaves room for the next batch
    # to gather while one runs.
    target_ongoing_requests: float | None = Field(None, gt=0.0)
    max_ongoing_requests: int = Field(16, ge=1)
    # Ray's default of 5 in-flight requests on the ingress would starve the
    # detector of load; the ingress is cheap, so it takes many at once.
    ingress_max_ongoing_requests: int = Field(100, ge=1)
    ingress_max_replicas: int = Field(2, ge=1)
    max_batch_size: int = Field(8, ge=1)
    batch_wait_timeout_s: float = Field(0.01, ge=0.0)
    upscale_delay_s: float = Field(10.0, ge=0.0)
    downscale_delay_s: float = Field(120.0, ge=0.0)
    look_back_period_s: float = Field(30.0, gt=0.0)

    @model_validator(mode="after")
    def _batches_can_form(self) -> Self:
        if self.detector_target < self.max_batch_size:
            raise ValueError(
                f"target_ongoing_requests {self.detector_target} is below max_batch_size "
                f"{self.max_batch_size}: replicas would be added before a batch can fill"
            )
        if self.max_ongoing_requests < 2 * self.max_batch_size:
            raise ValueError("max_ongoing_requests must hold two batches: one running, one forming")
        if self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas is below min_replicas")
        return self

    @property
    def detector_target(self) -> float:
        """The detector's ``target_ongoing_requests``: at least a full batch per replica."""
        if self.target_ongoing_requests is None:
            return float(self.max_batch_size)
        return self.target_ongoing_requests

    def autoscaling(self, min_replicas: int, max_replicas: int, target: float) -> dict[str, float]:
        """One deployment's ``autoscaling_config``."""
        return {
            "min_replicas": min_replicas,
            "max_replicas": max_replicas,
            "target_ongoing_requests": target,
            "upscale_delay_s": self.upscale_delay_s,
            "downscale_delay_s": self.downscale_delay_s,
            "look_back_period_s": self.look_back_period_s,
        }

    def batch_config(self) -> dict[str, float]:
        """The detector's ``user_config``: changed live by ``serve deploy`` (no restart)."""
        return {
            "max_batch_size": self.max_batch_size,
            "batch_wait_timeout_s": self.batch_wait_timeout_s,
        }
