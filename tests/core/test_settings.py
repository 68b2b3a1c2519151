"""Production mode refuses what would split the game between instances."""

from __future__ import annotations

import pytest

from huchu.config import Settings

SHARED = {
    "url_secret": "a-real-url-secret-0b6f3e",
    "qdrant_url": "https://vectors.example:6333",
    "graph_url": "redis://graph.example:6379",
    "s3_bucket": "huchu-images",
}
VARIABLES = {
    "url_secret": "HUCHU_URL_SECRET",
    "qdrant_url": "HUCHU_QDRANT_URL",
    "graph_url": "HUCHU_GRAPH_URL",
    "s3_bucket": "HUCHU_S3_BUCKET",
}


def production(**kw: str | None) -> Settings:
    return Settings.model_construct().model_copy(update={"production": True, **SHARED, **kw})


def test_production_with_every_shared_store_starts() -> None:
    production().check_production()
    Settings.model_construct().check_production()  # the embedded mode needs none of them


@pytest.mark.parametrize("field", sorted(VARIABLES))
@pytest.mark.parametrize("value", [None, "", "  "], ids=["unset", "empty", "blank"])
def test_production_names_the_missing_variable(field: str, value: str | None) -> None:
    with pytest.raises(ValueError) as refused:
        production(**{field: value}).check_production()
    message = str(refused.value)
    assert VARIABLES[field] in message
    assert all(name not in message for f, name in VARIABLES.items() if f != field)


def test_behind_cloudfront_production_needs_the_origin_secret() -> None:
    with pytest.raises(ValueError, match="HUCHU_ORIGIN_SECRET"):
        production(origin_required=True).check_production()  # type: ignore[arg-type]
    production(origin_required=True, origin_secret="x" * 64).check_production()  # type: ignore[arg-type]
