"""``huchu frontend build|publish``: the static site for a bucket."""

from __future__ import annotations

import argparse
import os
from typing import Any

from huchu.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from frontend.build import build_site, invalidate, publish

    out = build_site(args.out, api_url=args.api_url)
    print(f"site built in {out} (API {args.api_url or 'same origin'})")
    if args.action == "publish":
        bucket = os.environ.get("HUCHU_SITE_BUCKET")
        if not bucket:
            from cli.main import CliError

            raise CliError("set HUCHU_SITE_BUCKET (and the HUCHU_S3_* variables) to publish")
        from botocore.exceptions import BotoCoreError, ClientError

        from cli.main import CliError
        from huchu.stores.factory import s3_client

        distribution = args.distribution or os.environ.get("HUCHU_SITE_DISTRIBUTION")
        try:
            n = publish(out, s3_client(settings), bucket)
            print(f"published {n} files to s3://{bucket}")
            if distribution:
                done = invalidate(cloudfront_client(settings), distribution)
                print(f"CloudFront distribution {distribution}: invalidation {done} of /*")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise CliError(f"publish failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise CliError(f"publish failed: {exc}") from exc
    return 0


def cloudfront_client(settings: Settings) -> Any:
    """CloudFront with the S3 settings' credentials (and endpoint, for a local stand-in)."""
    import boto3

    return boto3.client(
        "cloudfront",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name="us-east-1",
    )
