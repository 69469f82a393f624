"""Where files that belong to a record are kept (e-mail attachments, expense receipts): one small
interface — put, get, delete by key — and its local-folder implementation.

A key is a relative path of safe parts (`tickets/SV-20261130-0001/3f2a…/photo.jpg`); the caller
keeps the key with its record, in its own database. Contents are bytes with a content type and a
size limit checked before anything is written. Writes are atomic (a temporary file renamed), so a
reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

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
