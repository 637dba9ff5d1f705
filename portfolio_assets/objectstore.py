"""S3 (or MinIO, Ceph, any S3-compatible store): the location, the client, and the operations the store needs.

A location is ``s3://<bucket>/<prefix>`` (:func:`parse_s3_url`) with the connection options
(:class:`S3Options`: endpoint, region, profile, the local cache directory). Clients come from dagster-aws's
``S3Resource`` (boto3; credentials through boto3's own chain, never read, logged or shown here), one per
process and options. Every operation turns boto3's errors into an :class:`ObjectStoreError` naming the URL
and the endpoint (credentials, query and fragment never shown) and saying what to check.

Only whole objects are written (one PUT each, which S3 makes visible atomically), and a download is renamed
into its final name once complete, so a local name never holds part of an object.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

S3_SCHEME = "s3"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX_PART = re.compile(r"[A-Za-z0-9!_.*'()=+,;@-]+")
INCOMING_PREFIX = ".incoming-"
"""Prefix of a download in progress (the landing zone's readers skip such names)."""
MAX_ATTEMPTS = 3
"""boto3's attempts per call (the first included): an unreachable endpoint fails within seconds."""


class ObjectStoreError(RuntimeError):
    """An object store operation failed; the message names the URL, the endpoint and what to check."""


def is_s3_url(text: object) -> bool:
    """Whether ``text`` is written as an ``s3://`` URL (valid or not)."""
    return isinstance(text, str) and text.strip().lower().startswith(f"{S3_SCHEME}://")


def parse_s3_url(text: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> ``(bucket, prefix)`` (prefix without slashes at its ends, may be empty).

    Raises ValueError saying what is wrong: not ``s3://``, credentials / query / fragment in it, a bucket name
    S3 refuses, an empty or ``.``/``..`` path segment, characters outside S3's safe set.
    """
    value = text.strip()
    if not re.fullmatch(r"[\x21-\x7e]+", value):
        raise ValueError("is not an s3:// URL (it holds spaces, control or non-ASCII characters)")
    parts = urlsplit(value)
    if parts.scheme != S3_SCHEME:
        raise ValueError("is not an s3://<bucket>/<prefix> URL")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError("must not carry credentials, a query or a fragment (boto3 finds the credentials)")
    bucket = parts.netloc
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or re.fullmatch(r"[0-9.]+", bucket):
        shown = "" if ":" in bucket else f"{bucket!r}: "  # never a key:secret pair written where the bucket goes
        raise ValueError(
            f"has no valid bucket name ({shown}3-63 lower-case letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit)"
        )
    prefix = parts.path.strip("/")
    if prefix:
        for part in prefix.split("/"):
            if part in ("", ".", "..") or not _PREFIX_PART.fullmatch(part):
                raise ValueError(f"has an unusable prefix segment {part!r} (letters, digits and !_.*'()=+,;@- only)")
    return bucket, prefix


def shown_endpoint(endpoint: str) -> str:
    """The endpoint as errors show it: scheme, host, port and path only (never credentials or a query)."""
    if not endpoint:
        return "AWS's default endpoint"
    from portfolio_assets.settings import shown_url  # settings imports this module

    return shown_url(endpoint)


@dataclass(frozen=True)
class S3Options:
    """How to reach the store: ``endpoint_url`` ("" = AWS), ``region``, ``profile`` ("" = boto3's defaults),
    and the local directory that caches downloaded objects."""

    endpoint_url: str = ""
    region: str = ""
    profile: str = ""
    cache_dir: str = ""


_CLIENTS: dict[tuple[int, S3Options], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(options: S3Options) -> Any:
    """The boto3 S3 client of ``options`` (one per process and options), built by dagster-aws's ``S3Resource``."""
    key = (os.getpid(), options)
    with _CLIENTS_LOCK:
        found = _CLIENTS.get(key)
        if found is None:
            from dagster_aws.s3 import S3Resource

            found = S3Resource(
                endpoint_url=options.endpoint_url or None,
                region_name=options.region or None,
                profile_name=options.profile or None,
                max_attempts=MAX_ATTEMPTS,
            ).get_client()
            _CLIENTS[key] = found
        return found


@dataclass(frozen=True)
class S3Location:
    """An object prefix: ``s3://<bucket>/<key>``, with the options to reach it.

    ``os.fspath`` of a location is its local cache directory (``<cache dir>/<bucket>/<key>``), which mirrors
    the objects' layout: code that keeps small local state beside a store gets a directory of its own.
    """

    bucket: str
    key: str
    options: S3Options = field(default_factory=S3Options)
    scheme: ClassVar[str] = S3_SCHEME

    @classmethod
    def parse(cls, text: str, options: S3Options) -> S3Location:
        """The location of an ``s3://`` URL (``parse_s3_url``'s ValueError when unusable)."""
        bucket, prefix = parse_s3_url(text)
        return cls(bucket, prefix, options)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"

    def __truediv__(self, part: str) -> S3Location:
        joined = "/".join(p for p in (self.key, str(part).strip("/")) if p)
        return S3Location(self.bucket, joined, self.options)

    def __fspath__(self) -> str:
        return str(self.cache_path())

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def child_key(self, relative: str) -> str:
        """The object key of ``relative`` (POSIX) under this location."""
        return "/".join(p for p in (self.key, relative.strip("/")) if p)

    def cache_path(self) -> Path:
        """The local directory that mirrors this location (``options.cache_dir`` must be set): under the bucket
        and, for another endpoint than AWS's, a digest of it (one bucket name on two servers is two buckets)."""
        if not self.options.cache_dir:
            raise ObjectStoreError(f"{self}: no local cache directory configured for downloaded objects")
        endpoint = self.options.endpoint_url
        bucket = f"{self.bucket}@{hashlib.sha256(endpoint.encode()).hexdigest()[:12]}" if endpoint else self.bucket
        return Path(self.options.cache_dir, bucket, *[p for p in self.key.split("/") if p])

    @property
    def client(self) -> Any:
        return client_for(self.options)

    # ------------------------------------------------------------------ errors

    def _fail(self, action: str, exc: BaseException) -> ObjectStoreError:
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
            ProfileNotFound,
            ReadTimeoutError,
        )

        where = f"{self} at {shown_endpoint(self.options.endpoint_url)}"
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
            why = "the endpoint cannot be reached; check AWS_ENDPOINT_URL and that the server runs and is reachable"
        elif isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            why = "no usable credentials; set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
        elif isinstance(exc, ProfileNotFound):
            why = "the AWS profile is not in the AWS config files; check AWS_PROFILE"
        elif isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket" or (code in ("404", "NotFound") and action == "check the bucket"):
                why = f"the bucket {self.bucket!r} does not exist there; create it or fix PORTFOLIO_STORAGE_URL"
            elif code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
                why = "access denied; check the credentials' permissions and the bucket policy"
            elif code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"):
                why = f"the credentials were refused ({code}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
            else:
                why = f"the server answered {code or 'an error'} (HTTP {status})"
        else:
            why = f"{type(exc).__name__}: {str(exc)[:300]}"  # the endpoint holds no credentials (checked at load)
        return ObjectStoreError(f"{where}: cannot {action}: {why}")

    def _call(self, action: str, function: Callable[[], T]) -> T:
        from boto3.exceptions import Boto3Error, S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function()
        except S3UploadFailedError as exc:  # boto3's transfer wraps the ClientError: classify that
            cause = exc.__cause__ or exc.__context__
            raise self._fail(action, cause if isinstance(cause, (BotoCoreError, ClientError)) else exc) from None
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            raise self._fail(action, exc) from None

    # ------------------------------------------------------------------ operations

    def check(self) -> None:
        """Fail at once, naming the URL and the cause, if the bucket cannot be reached, is missing or refused."""
        self._call("check the bucket", lambda: self.client.head_bucket(Bucket=self.bucket))

    def list(self, relative: str = "") -> dict[str, int]:
        """Every object under ``relative`` (a folder; "" = the whole location): key relative to this location
        -> size. Listed afresh on each call (never cached)."""
        return {key: size for key, (size, _) in self.stats(relative).items()}

    def stats(self, relative: str = "") -> dict[str, tuple[int, float]]:
        """``list``, with each object's size and last-modified time (seconds since the epoch)."""
        prefix = self.child_key(relative)
        prefix = f"{prefix}/" if prefix else ""
        cut = len(self.key) + 1 if self.key else 0

        def listing() -> dict[str, tuple[int, float]]:
            found: dict[str, tuple[int, float]] = {}
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    found[str(item["Key"])[cut:]] = (int(item["Size"]), item["LastModified"].timestamp())
            return found

        return self._call(f"list {prefix or '/'}", listing)

    def get(self, relative: str) -> bytes:
        """The bytes of one object; ``FileNotFoundError`` naming it when there is none."""
        from botocore.exceptions import ClientError

        key = self.child_key(relative)

        def read() -> bytes:
            try:
                return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    raise FileNotFoundError(f"s3://{self.bucket}/{key}: no such object") from None
                raise

        return self._call(f"read {key}", read)

    def put(self, relative: str, data: bytes) -> None:
        """Write one object whole (a single PUT: readers see all of it or none)."""
        key = self.child_key(relative)
        self._call(f"write {key}", lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data))

    def upload(self, relative: str, path: Path) -> None:
        """Upload a local file as one object (multipart for large files: visible only once completed)."""
        key = self.child_key(relative)
        self._call(f"write {key}", lambda: self.client.upload_file(str(path), self.bucket, key))

    def delete(self, relatives: Iterable[str]) -> None:
        """Delete objects (absent ones are fine), a thousand a request."""
        keys = [self.child_key(r) for r in relatives]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            answer = self._call(
                f"delete {len(batch)} object(s)",
                lambda batch=batch: self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch}),
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise ObjectStoreError(
                    f"{self} at {shown_endpoint(self.options.endpoint_url)}: cannot delete {first.get('Key')}:"
                    f" {first.get('Code')}; check the credentials' permissions"
                )

    def download(self, relative: str, target: Path) -> Path:
        """Copy one object to ``target`` (written under a temporary name, renamed when complete)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{INCOMING_PREFIX}{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        key = self.child_key(relative)
        try:
            self._call(f"read {key}", lambda: self.client.download_file(self.bucket, key, str(tmp)))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def cached(self, relative: str) -> Path:
        """The local copy of an immutable object, downloaded on first use (a cached name is always complete)."""
        target = self.cache_path().joinpath(*relative.split("/"))
        return target if target.is_file() else self.download(relative, target)

    def mirror(self, relative: str, *, depth: int = 1) -> Path:
        """Bring the local copy (``cache_path``) of folder ``relative`` in line with its objects: the files
        ``depth`` levels down downloaded when missing or of another size (and given the object's modification
        time), the ones no longer there removed. Returns the local folder."""
        base = relative.strip("/").count("/") + (1 if relative.strip("/") else 0)
        listed = {k: v for k, v in self.stats(relative).items() if k.count("/") - base == depth - 1}
        wanted = set()
        for key, (size, modified) in listed.items():
            local = self.cache_path().joinpath(*key.split("/"))
            wanted.add(local)
            if not local.is_file() or local.stat().st_size != size:
                self.download(key, local)
                os.utime(local, (modified, modified))
        folder = self.cache_path().joinpath(*[p for p in relative.split("/") if p])
        if folder.is_dir():
            for local in folder.glob("/".join(["*"] * depth)):
                if local.is_file() and local not in wanted and not local.name.startswith(INCOMING_PREFIX):
                    local.unlink()
        return folder
