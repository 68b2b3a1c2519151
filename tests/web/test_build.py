"""`huchu frontend build` and `publish`: the static site and its bucket."""

from __future__ import annotations

import json
from pathlib import Path

from huchu.config import Settings
from huchu.stores.factory import s3_client
from tests.commandline import huchu


def test_build_renders_both_languages_with_pinned_vendor_files(tmp_path: Path) -> None:
    out = huchu(
        "frontend", "build", "--api-url", "https://api.example/", "--out", str(tmp_path / "site")
    )
    assert out.returncode == 0, out.stderr
    site = tmp_path / "site"
    for page in ("index", "gallery", "face", "averages", "lookalike", "mine"):
        ko = (site / f"{page}.html").read_text()
        en = (site / "en" / f"{page}.html").read_text()
        assert 'content="https://api.example"' in ko and 'lang="ko"' in ko and 'lang="en"' in en
    index = (site / "index.html").read_text()
    assert (
        'accept="image/*" capture="user"' in index and "cytoscape" not in index
    )  # the graph library loads only where drawn
    frontend = Path(__file__).resolve().parents[2] / "frontend"
    lock = json.loads((frontend / "package-lock.json").read_text())
    pinned = json.loads((frontend / "package.json").read_text())["dependencies"]
    assert pinned["htmx.org"] == lock["packages"]["node_modules/htmx.org"]["version"]
    assert pinned["htmx.org"].startswith("2.")  # the major version the page's code is written for
    assert (site / "static" / "vendor" / "htmx.min.js").stat().st_size > 10_000


def test_publish_uploads_the_site_to_its_bucket(tmp_path: Path, s3_endpoint: str) -> None:
    env = {
        "HUCHU_S3_ENDPOINT": s3_endpoint,
        "HUCHU_S3_ACCESS_KEY": "test",
        "HUCHU_S3_SECRET_KEY": "test",
        "HUCHU_S3_REGION": "us-east-1",
        "HUCHU_SITE_BUCKET": "huchu-site-test",
    }
    settings = Settings().model_copy(
        update={"s3_endpoint": s3_endpoint, "s3_access_key": "test", "s3_secret_key": "test"}
    )
    s3 = s3_client(settings)
    s3.create_bucket(Bucket="huchu-site-test")
    out = huchu(
        "frontend",
        "publish",
        "--api-url",
        "https://api.example",
        "--out",
        str(tmp_path / "site"),
        env=env,
    )
    assert out.returncode == 0, out.stderr
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="huchu-site-test")["Contents"]}
    assert {"index.html", "en/index.html", "static/app.js", "static/vendor/htmx.min.js"} <= keys
    head = s3.head_object(Bucket="huchu-site-test", Key="index.html")
    assert head["ContentType"].startswith("text/html")
    # Pages are revalidated at once; assets (CloudFront's cache key has no query string,
    # so ?v=<hash> does not tell versions apart) are kept only briefly.
    assert head["CacheControl"] == "no-cache"
    script = s3.head_object(Bucket="huchu-site-test", Key="static/app.js")
    assert script["CacheControl"] == "public, max-age=300"

    import boto3

    cloudfront = boto3.client(
        "cloudfront",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "huchu-test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": "huchu-site-test.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
            },
        }
    )["Distribution"]["Id"]
    again = huchu(
        "frontend",
        "publish",
        "--out",
        str(tmp_path / "site"),
        "--distribution",
        distribution,
        env=env,
    )
    assert again.returncode == 0, again.stderr
    invalidations = cloudfront.list_invalidations(DistributionId=distribution)
    assert invalidations["InvalidationList"]["Quantity"] == 1
    (item,) = invalidations["InvalidationList"]["Items"]
    paths = cloudfront.get_invalidation(DistributionId=distribution, Id=item["Id"])
    assert paths["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/*"]
    missing = huchu("frontend", "publish", "--out", str(tmp_path / "site2"))
    assert missing.returncode == 2 and "HUCHU_SITE_BUCKET" in missing.stderr
