"""The game runs on the same real parts as the functions."""

from tests.functions.conftest import client, ctx, inference, s3_endpoint

__all__ = ["client", "ctx", "inference", "s3_endpoint"]
