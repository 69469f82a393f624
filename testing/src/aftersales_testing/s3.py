"""A local S3-compatible server for tests: moto's S3 server on 127.0.0.1 with IAM authentication
on (every request's Signature V4 is checked; a user allowed s3:* and its key are made first)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalS3:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str


@contextmanager
def local_s3(bucket: str = "files") -> Iterator[LocalS3]:
    from moto import settings as moto_settings
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    before = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    try:
        if "files" not in iam.users:
            iam.create_user("us-east-1", "files")
        key = iam.create_access_key("files")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy("files", "s3", json.dumps(policy))
        s3 = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        if bucket not in s3.buckets:
            s3.create_bucket(bucket, "us-east-1")
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # from now on every request is checked
        host, port = server.get_host_and_port()
        yield LocalS3(f"http://{host}:{port}", bucket, key.access_key_id, key.secret_access_key)
    finally:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = before
        server.stop()
