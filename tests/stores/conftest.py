"""A signature-checking S3 server for the store tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rclone import S3Server, rclone_s3


@pytest.fixture(scope="module")
def rclone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with rclone_s3(tmp_path_factory.mktemp("rclone")) as server:
        yield server
