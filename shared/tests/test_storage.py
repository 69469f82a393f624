"""The file storage (aftersales_shared.storage): the local folder, and S3 against moto's S3 server
with signature checking on (a wrong secret is refused: the Signature V4 is really verified), plus
the signature of AWS's own documented example (GET /test.txt, "Signature Calculations for the
Authorization Header", example key AKIAIOSFODNN7EXAMPLE)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftersales_shared.storage import (
    LocalFolderStorage,
    S3Storage,
    StorageError,
    StoredTooLarge,
    StoredUnknown,
    sigv4_headers,
)
from aftersales_testing.s3 import local_s3

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BAD_KEYS = ("../etc/passwd", "/abs", "a//b", "a/../b", "a/.hidden/../../x", "")


def test_the_signature_of_aws_documented_example():
    headers = sigv4_headers(
        "GET",
        "examplebucket.s3.amazonaws.com",
        "/test.txt",
        "",
        {"Range": "bytes=0-9"},
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        datetime(2013, 5, 24, tzinfo=UTC),
        "us-east-1",
        "s3",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


async def test_local_folder_storage_puts_gets_deletes_and_refuses(tmp_path):
    store = LocalFolderStorage(tmp_path, max_bytes=1000)
    assert await store.put("tickets/SV-1/a/photo.png", PNG[:900], "image/png") == 900
    got = await store.get("tickets/SV-1/a/photo.png")
    assert got.data == PNG[:900] and got.content_type == "image/png" and got.size == 900
    with pytest.raises(StoredTooLarge):
        await store.put("tickets/SV-1/b/big.png", PNG, "image/png")
    assert not (tmp_path / "tickets" / "SV-1" / "b").exists()
    for bad in BAD_KEYS:
        with pytest.raises(ValueError):
            await store.put(bad, b"x", "text/plain")
    assert (await store.put("k/odd", b"x", "not a type")) == 1
    assert (await store.get("k/odd")).content_type == "application/octet-stream"
    await store.delete("tickets/SV-1/a/photo.png")
    await store.delete("tickets/SV-1/a/photo.png")  # gone already: fine
    with pytest.raises(StoredUnknown):
        await store.get("tickets/SV-1/a/photo.png")


@pytest.fixture
def s3_server():
    with local_s3() as s3:
        yield s3.endpoint, s3.access_key, s3.secret_key


async def test_s3_storage_against_an_s3_server_that_checks_signatures(s3_server):
    endpoint, access, secret = s3_server
    store = S3Storage(endpoint, "files", access, secret, max_bytes=5000)
    try:
        key = "tickets/SV-20261130-0001/3f2a/photo.png"
        assert await store.put(key, PNG, "image/png") == len(PNG)
        got = await store.get(key)
        assert got.data == PNG and got.content_type == "image/png" and got.size == len(PNG)
        with pytest.raises(StoredTooLarge):
            await store.put("tickets/big", PNG * 10, "image/png")
        for bad in BAD_KEYS:
            with pytest.raises(ValueError):
                await store.put(bad, b"x", "text/plain")
        await store.delete(key)
        with pytest.raises(StoredUnknown):
            await store.get(key)
        await store.delete(key)  # gone already: fine
    finally:
        await store.close()
    forged = S3Storage(endpoint, "files", access, "not-the-secret", max_bytes=5000)
    try:
        with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
            await forged.put("tickets/x", b"x", "text/plain")
    finally:
        await forged.close()
