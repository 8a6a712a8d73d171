"""A real S3 HTTP endpoint for tests and benchmarks: moto's server (moto[server], Apache-2.0) on a
free loopback port, in a thread of this process. Our code talks to it through boto3 and
django-storages exactly as to AWS S3, R2 or MinIO (SigV4, presigned POSTs, ranged GETs)."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "us-east-1"


@dataclass
class S3Endpoint:
    url: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """Environment for a server process using this bucket (avatarforge/settings.py)."""
        return {
            "STORAGE_BACKEND": "s3", "S3_BUCKET": self.bucket, "S3_ENDPOINT_URL": self.url, "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY, "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def client(self):  # noqa: ANN201 - boto3 client
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY)

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


@contextmanager
def moto_s3(bucket: str) -> Iterator[S3Endpoint]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = S3Endpoint(url=f"http://127.0.0.1:{port}", bucket=bucket)
        endpoint.client().create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()
