"""S3-compatible storage (AWS, MinIO, R2...) through boto3: streamed multipart writes, presigned reads.

`STORAGE_URL=s3://bucket/prefix`; `S3_ENDPOINT_URL` for non-AWS services; credentials and region
from the usual AWS variables. An object appears only when its upload completes, so writes are
atomic. Web and worker dynos share nothing but the bucket.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.platform.storage.base import Storage, StorageError, check_key

# what the bucket is asked to send with a presigned download: the same as local storage sends
PRIVATE_CACHE = "private, max-age=3600"
TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024, max_concurrency=4)


class S3Storage(Storage):
    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, signature_version="s3v4"),
        )

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def staging_file(self) -> IO[bytes]:
        return tempfile.NamedTemporaryFile(prefix="conveyor-upload-", delete=False)

    def save_staged(self, key: str, staged: IO[bytes]) -> int:
        staged.flush()
        staged.seek(0)
        size = os.fstat(staged.fileno()).st_size
        with _errors(key):
            self.client.upload_fileobj(staged, self.bucket, self.object_key(key), Config=TRANSFER)
        return size

    def put_file(self, key: str, path: Path) -> int:
        with _errors(key):
            self.client.upload_file(str(path), self.bucket, self.object_key(key), Config=TRANSFER)
        return path.stat().st_size

    @contextmanager
    def local_copy(self, key: str, workdir: Path) -> Iterator[Path]:
        target = workdir / Path(key).name
        with _errors(key):
            self.client.download_file(self.bucket, self.object_key(key), str(target), Config=TRANSFER)
        try:
            yield target
        finally:
            target.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))["ContentLength"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"storage: {exc}") from exc

    def get_file(self, key: str, target: Path) -> Path:
        with _errors(key):
            self.client.download_file(self.bucket, self.object_key(key), str(target), Config=TRANSFER)
        return target

    def read_bytes(self, key: str) -> bytes:
        with _errors(key):
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"].read()

    def head(self, key: str, length: int) -> bytes:
        """The first bytes of an object."""
        with _errors(key):
            body = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key), Range=f"bytes=0-{length - 1}")
            return body["Body"].read()

    def move(self, source: str, target: str) -> None:
        """Server-side copy then delete: the bytes never pass through this process."""
        with _errors(source):
            self.client.copy(
                {"Bucket": self.bucket, "Key": self.object_key(source)}, self.bucket, self.object_key(target),
                Config=TRANSFER,
            )
        self.delete(source)

    def delete(self, key: str) -> None:
        with _errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def delete_prefix(self, prefix: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        with _errors(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.object_key(prefix.rstrip("/")) + "/"):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def public_url(self, key: str, ttl: int) -> str | None:
        # the bucket answers with `Cache-Control: private`: someone's own media, never kept by a shared cache
        params = {"Bucket": self.bucket, "Key": self.object_key(key), "ResponseCacheControl": PRIVATE_CACHE}
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)

    def presigned_upload(self, key: str, max_bytes: int, ttl: int) -> dict:
        """A form the browser posts straight to the bucket, limited in size and lifetime."""
        return self.client.generate_presigned_post(
            self.bucket,
            self.object_key(key),
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=ttl,
        )


@contextmanager
def _errors(key: str) -> Iterator[None]:
    """Storage trouble is a StorageError: the job is retried, the API answers 503."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        if code in ("404", "NoSuchKey", "NotFound"):
            raise FileNotFoundError(f"no stored file {key}") from exc
        raise StorageError(f"storage error on {key}: {type(exc).__name__}") from exc
