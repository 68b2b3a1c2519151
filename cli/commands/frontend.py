"""``huchu frontend build|publish``: the static site for a bucket."""

from __future__ import annotations

import argparse
import os

from huchu.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from frontend.build import build_site, publish

    out = build_site(args.out, api_url=args.api_url)
    print(f"site built in {out} (API {args.api_url or 'same origin'})")
    if args.action == "publish":
        bucket = os.environ.get("HUCHU_SITE_BUCKET")
        if not bucket:
            from cli.main import CliError

            raise CliError("set HUCHU_SITE_BUCKET (and the HUCHU_S3_* variables) to publish")
        from huchu.stores.factory import s3_client
        from huchu.stores.objects import S3ObjectStore

        n = publish(out, S3ObjectStore(s3_client(settings), bucket))
        print(f"published {n} files to s3://{bucket}")
    return 0
