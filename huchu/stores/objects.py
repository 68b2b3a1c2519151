"""``ObjectStore``: files under the data dir, or any S3-compatible bucket."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from huchu.errors import NotFound, Unavailable


class Conflict(Exception):
    """A conditional write lost: the object changed (or appeared) since it was read."""


@dataclass(frozen=True)
class PresignedPut:
    """A request that stores exactly ``size`` bytes of one type under one key, until ``expires``."""

    url: str
    expires: int  # unix seconds
    headers: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """The object and its entity tag, for a later ``put_if``."""
        ...

    def put_if(self, key: str, data: bytes, content_type: str, etag: str | None) -> str:
        """Write only if the object still has ``etag`` (``None``: only if it is absent).

        Raises ``Conflict`` otherwise; returns the new tag. Several processes or function
        instances updating one object this way never lose each other's updates.
        """
        ...

    def delete(self, keys: list[str]) -> None: ...
    def list(self, prefix: str) -> list[str]: ...
    def url(self, key: str, expires: int = 3600) -> str: ...
    def upload_url(
        self, key: str, content_type: str, size: int, expires: int = 900
    ) -> PresignedPut: ...
    def ping(self) -> None: ...


class UrlSigner:
    """HMAC-signed, expiring ``/files/...`` URLs for the local store."""

    def __init__(self, secret: bytes, base: str = "") -> None:
        self._secret = secret
        self._base = base.rstrip("/")

    def sign(self, key: str, expires: int) -> str:
        exp = int(time.time()) + expires
        exp -= exp % 600  # stable for ten minutes so browsers can cache
        exp += 600
        sig = self._mac(key, exp)
        return f"{self._base}/files/{quote(key)}?exp={exp}&sig={sig}"

    def verify(self, key: str, exp: int, sig: str) -> bool:
        return exp >= time.time() and hmac.compare_digest(sig, self._mac(key, exp))

    def sign_put(self, key: str, content_type: str, size: int, expires: int) -> PresignedPut:
        """A PUT to ``/files/{key}`` that the API takes once: this type, this many bytes."""
        exp = int(time.time()) + expires
        sig = self._mac(key, exp, f"PUT\n{content_type}\n{size}")
        url = f"{self._base}/files/{quote(key)}?exp={exp}&sig={sig}"
        return PresignedPut(url, exp, {"Content-Type": content_type})

    def verify_put(self, key: str, exp: int, sig: str, content_type: str, size: int) -> bool:
        expected = self._mac(key, exp, f"PUT\n{content_type}\n{size}")
        return exp >= time.time() and hmac.compare_digest(sig, expected)

    def _mac(self, key: str, exp: int, request: str = "") -> str:
        # GET links sign the key and expiry only; a PUT also signs its type and size.
        message = f"{key}\n{exp}" + (f"\n{request}" if request else "")
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()[:32]


class LocalObjectStore:
    """Files under ``root``; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path, signer: UrlSigner) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.signer = signer

    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root.resolve() not in p.parents:
            raise NotFound(f"no object {key!r}")
        return p

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._write(self._path(key), data)

    def _write(self, p: Path, data: bytes) -> None:
        """Temp file + fsync + rename; a failed write leaves neither temp file nor folder."""
        tmp: str | None = None
        made = not p.parent.exists()
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
            tmp = None
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            if made:
                self._prune(p.parent)
            raise Unavailable(f"object store write failed: {exc.strerror}") from exc

    def clear_temporary(self, older_than_s: float) -> int:
        """Temporary files a killed writer left (a crash mid-write cannot remove its own)."""
        cutoff = time.time() - older_than_s
        gone = 0
        for parent, _, names in os.walk(self.root):
            for name in names:
                path = Path(parent) / name
                if name.startswith(".tmp-"):
                    with contextlib.suppress(OSError):
                        if path.stat().st_mtime <= cutoff:
                            path.unlink()
                            gone += 1
                            self._prune(path.parent)
        return gone

    def _prune(self, folder: Path) -> None:
        """Remove ``folder`` and its parents while they are empty (never the root)."""
        root = self.root.resolve()
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        data = self.get(key)
        return data, hashlib.sha256(data).hexdigest()

    def put_if(self, key: str, data: bytes, content_type: str, etag: str | None) -> str:
        p = self._path(key)
        # One lock for the store's conditional writes, shared by every process on this disk.
        fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                now: str | None = hashlib.sha256(p.read_bytes()).hexdigest()
            except FileNotFoundError:
                now = None
            if now != etag:
                raise Conflict(f"{key} changed since it was read")
            self._write(p, data)
            return hashlib.sha256(data).hexdigest()
        finally:
            os.close(fd)  # releases the lock

    def get(self, key: str) -> bytes:
        p = self._path(key)
        try:
            return p.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no object {key!r}") from None
        except OSError as exc:
            raise Unavailable(f"object store read failed: {exc.strerror}") from exc

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            p = self._path(key)
            try:
                p.unlink(missing_ok=True)
            except OSError as exc:
                raise Unavailable(f"object store delete failed: {exc.strerror}") from exc
            self._prune(p.parent)  # no empty folders left behind

    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``: only its folder is walked, and folders that vanish meanwhile
        (a concurrent delete) are skipped."""
        folder = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        keys = []
        for parent, _, names in os.walk(folder):  # errors (a vanished folder) are ignored
            rel = os.path.relpath(parent, self.root)
            for name in names:
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix) and not name.startswith(".tmp-"):
                    keys.append(key)
        return sorted(keys)

    def url(self, key: str, expires: int = 3600) -> str:
        return self.signer.sign(key, expires)

    def upload_url(
        self, key: str, content_type: str, size: int, expires: int = 900
    ) -> PresignedPut:
        self._path(key)  # refuse keys outside the root before signing
        return self.signer.sign_put(key, content_type, size, expires)

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise Unavailable(f"object folder {self.root} is not writable")


class S3ObjectStore:
    """S3 API through boto3: MinIO, AWS, rclone or moto; presigned GET and PUT URLs.

    ``public_client`` signs the URLs that browsers get (``HUCHU_S3_PUBLIC_ENDPOINT``), so
    the host in them is one that browsers reach; the signature covers that host.
    """

    def __init__(self, client: Any, bucket: str, public_client: Any | None = None) -> None:
        self._s3 = client
        self._presign = public_client or client
        self.bucket = bucket

    def _call(self, what: str, fn: Any, **kw: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kw)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"no object {kw.get('Key')!r}") from None
            raise Unavailable(f"object store {what} failed: {code}") from exc
        except BotoCoreError as exc:
            raise Unavailable(f"object store {what} failed: {exc.__class__.__name__}") from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._call("write", self._s3.put_object, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        body = self._call("read", self._s3.get_object, Key=key)["Body"]
        return bytes(body.read())

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        answer = self._call("read", self._s3.get_object, Key=key)
        return bytes(answer["Body"].read()), str(answer["ETag"])

    def put_if(self, key: str, data: bytes, content_type: str, etag: str | None) -> str:
        from botocore.exceptions import ClientError

        condition = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": etag}
        try:
            answer = self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **condition
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
                raise Conflict(f"{key} changed since it was read") from None
            raise Unavailable(f"object store write failed: {code}") from exc
        return str(answer["ETag"])

    def delete(self, keys: list[str]) -> None:
        """Every key, or ``Unavailable``: DeleteObjects answers 200 even when it refused
        some keys (access denied, a lock), naming them under ``Errors``."""
        refused: list[dict[str, str]] = []
        for i in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[i : i + 1000]]
            if chunk:
                answer = self._call(
                    "delete", self._s3.delete_objects, Delete={"Objects": chunk, "Quiet": True}
                )
                refused += answer.get("Errors") or []
        if refused:
            first = refused[0]
            raise Unavailable(
                f"object store delete failed for {len(refused)} of {len(keys)} keys "
                f"({first.get('Key')!r}: {first.get('Code')})"
            )

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        token: str | None = None
        while True:
            kw: dict[str, Any] = {"Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            page = self._call("list", self._s3.list_objects_v2, **kw)
            keys += [o["Key"] for o in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return sorted(keys)
            token = page.get("NextContinuationToken")

    def url(self, key: str, expires: int = 3600) -> str:
        return str(
            self._presign.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
            )
        )

    def upload_url(
        self, key: str, content_type: str, size: int, expires: int = 900
    ) -> PresignedPut:
        # Content-Type and Content-Length are signed headers: S3 refuses another size or type.
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
        }
        url = self._presign.generate_presigned_url("put_object", Params=params, ExpiresIn=expires)
        return PresignedPut(str(url), int(time.time()) + expires, {"Content-Type": content_type})

    def ping(self) -> None:
        self._call("ping", self._s3.head_bucket)
