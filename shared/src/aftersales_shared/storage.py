"""Where files that belong to a record are kept (e-mail attachments, expense receipts): one small
interface — put, get, delete by key — and its local-folder implementation.

`S3Storage` keeps them in a bucket of an S3-compatible store instead (several replicas, production).
A key is a relative path of safe parts (`tickets/SV-20261130-0001/3f2a…/photo.jpg`); the caller
keeps the key with its record, in its own database. Contents are bytes with a content type and a
size limit checked before anything is written. Writes are atomic (a temporary file renamed), so a
reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit

from .errors import DomainError, NotFound

KEY_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,127}$")
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+\-]*/[a-z0-9][a-z0-9!#$&^_.+\-]*$")


class StoredTooLarge(DomainError):
    status = 413
    code = "file_too_large"


class StoredUnknown(NotFound):
    code = "file_not_found"


@dataclass(frozen=True)
class Stored:
    key: str
    content_type: str
    size: int
    data: bytes


@runtime_checkable
class FileStorage(Protocol):
    """What the services use; `LocalFolderStorage` by default."""

    max_bytes: int

    async def put(self, key: str, data: bytes, content_type: str) -> int: ...

    async def get(self, key: str) -> Stored: ...

    async def delete(self, key: str) -> None: ...


def check_key(key: str) -> str:
    """The key if every part is a safe name (no '..', no absolute path), else ValueError."""
    parts = key.split("/")
    if not 1 <= len(parts) <= 8 or not all(KEY_PART.match(p) and ".." not in p for p in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def safe_name(name: str, default: str = "file") -> str:
    """A file name usable as the last part of a key (the original name is kept by the caller)."""
    cleaned = re.sub(r"[^A-Za-z0-9._\-]+", "_", name).strip("._-")[:100]
    return cleaned or default


def content_type_of(value: str | None) -> str:
    value = (value or "").strip().lower()
    return value if CONTENT_TYPE.match(value) and len(value) <= 100 else "application/octet-stream"


class LocalFolderStorage:
    """Files under one folder (the data dir locally, a mounted volume in a pod); the content type
    beside each file in `<name>.meta.json`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    async def put(self, key: str, data: bytes, content_type: str) -> int:
        if len(data) > self.max_bytes:
            raise StoredTooLarge(
                f"文件过大：最大{self.max_bytes // 1024} KB "
                f"(file larger than {self.max_bytes} bytes)"
            )
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"content_type": content_type_of(content_type), "size": len(data)})
        _atomic_write(path.with_name(path.name + ".meta.json"), meta.encode())
        _atomic_write(path, data)
        return len(data)

    async def get(self, key: str) -> Stored:
        path = self._path(key)
        try:
            data = path.read_bytes()
            meta = json.loads(path.with_name(path.name + ".meta.json").read_text())
        except FileNotFoundError:
            raise StoredUnknown(f"文件不存在 (no file {key})") from None
        return Stored(key, meta.get("content_type", "application/octet-stream"), len(data), data)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        for p in (path, path.with_name(path.name + ".meta.json")):
            p.unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class S3Storage:
    """Objects in one bucket of an S3-compatible store (AWS S3, MinIO, Aliyun OSS and Tencent COS in
    their S3 mode), path-style, each request signed with AWS Signature Version 4."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        max_bytes: int,
        region: str = "us-east-1",
        timeout: float = 30.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        import httpx

        self.endpoint = endpoint.rstrip("/")
        self.host = urlsplit(self.endpoint).netloc
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.max_bytes = max_bytes
        self.clock = clock or (lambda: datetime.now(UTC))
        self._http = httpx.AsyncClient(timeout=timeout)

    def _path(self, key: str) -> str:
        parts = [self.bucket, *check_key(key).split("/")]
        return "/" + "/".join(quote(p, safe="-_.~") for p in parts)

    async def _call(self, method: str, key: str, data: bytes = b"", **headers: str) -> Any:
        path = self._path(key)
        signed = sigv4_headers(
            method,
            self.host,
            path,
            "",
            {k.replace("_", "-"): v for k, v in headers.items()},
            hashlib.sha256(data).hexdigest(),
            self.clock(),
            self.region,
            "s3",
            self.access_key,
            self.secret_key,
        )
        return await self._http.request(method, self.endpoint + path, content=data, headers=signed)

    async def put(self, key: str, data: bytes, content_type: str) -> int:
        if len(data) > self.max_bytes:
            raise StoredTooLarge(
                f"文件过大：最大{self.max_bytes // 1024} KB "
                f"(file larger than {self.max_bytes} bytes)"
            )
        r = await self._call("PUT", key, data, content_type=content_type_of(content_type))
        if r.status_code != 200:
            raise StorageError(f"S3 PUT {key}: {r.status_code} {r.text[:300]}")
        return len(data)

    async def get(self, key: str) -> Stored:
        r = await self._call("GET", key)
        if r.status_code == 404:
            raise StoredUnknown(f"文件不存在 (no file {key})")
        if r.status_code != 200:
            raise StorageError(f"S3 GET {key}: {r.status_code} {r.text[:300]}")
        ctype = content_type_of(r.headers.get("content-type"))
        return Stored(key, ctype, len(r.content), r.content)

    async def delete(self, key: str) -> None:
        r = await self._call("DELETE", key)
        if r.status_code not in (200, 204, 404):
            raise StorageError(f"S3 DELETE {key}: {r.status_code} {r.text[:300]}")

    async def close(self) -> None:
        await self._http.aclose()


def storage_for(
    files_dir: str | Path,
    max_bytes: int,
    *,
    s3_endpoint: str = "",
    s3_bucket: str = "",
    s3_region: str = "us-east-1",
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
) -> FileStorage:
    """A service's file storage from its settings: the S3-compatible store when an endpoint is
    configured (several replicas, production), else the local folder."""
    if s3_endpoint:
        if not (s3_bucket and s3_access_key and s3_secret_key):
            raise ValueError("an S3 endpoint needs a bucket, an access key and a secret key")
        return S3Storage(
            s3_endpoint, s3_bucket, s3_access_key, s3_secret_key, max_bytes, region=s3_region
        )
    return LocalFolderStorage(Path(files_dir), max_bytes)


class StorageError(RuntimeError):
    """The store answered otherwise than expected (not the caller's fault: a 5xx upstream)."""


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(
    method: str,
    host: str,
    path: str,
    query: str,
    headers: dict[str, str],
    payload_hash: str,
    now: datetime,
    region: str,
    service: str,
    access_key: str,
    secret_key: str,
) -> dict[str, str]:
    """The request's headers with `x-amz-date`, `x-amz-content-sha256` and the `Authorization` of
    AWS Signature Version 4 (every header given is signed; `path` already URI-encoded, `query` the
    canonical query string)."""
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    all_headers = {
        "host": host,
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": amz_date,
        **{k.lower(): " ".join(v.split()) for k, v in headers.items()},
    }
    names = sorted(all_headers)
    canonical = "\n".join(
        [
            method,
            path,
            query,
            "".join(f"{n}:{all_headers[n]}\n" for n in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    all_headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    del all_headers["host"]  # the HTTP client sends it
    return all_headers
