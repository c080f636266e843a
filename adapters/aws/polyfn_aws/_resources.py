"""Resources on AWS: `Bucket` on S3, `Queue` on SQS, `Topic` on SNS, `Table` on DynamoDB and
`Secret` on Secrets Manager, through boto3 (``pip install 'polyfn-aws[resources]'``; the Lambda
Python runtime ships boto3 too).

boto3 is imported when a handle is first used, never by ``import polyfn_aws`` or building the
handler. The backend keeps one client per service for the life of the process (botocore clients
are thread-safe), so warm invocations reuse their connections. Clients honour boto3's own
settings: credentials, ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>`` (botocore reads those itself since 1.31.57 / boto3 1.28.57:
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).

Retries: botocore's "standard" retry mode with `MAX_ATTEMPTS` attempts, unless the environment
sets ``AWS_RETRY_MODE`` or ``AWS_MAX_ATTEMPTS``. Standard mode retries throttling and transient
errors of every service with exponential backoff and jitter, and its retry quota stops a failing
dependency from being hammered; "legacy" (boto3's default) knows fewer throttling codes and
"adaptive" adds a client-side rate limiter whose state a short-lived Lambda rarely benefits from.
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
SendMessageBatch reports throttled entries inside a successful answer, which botocore cannot
retry: `SqsQueue.send_batch` retries those itself.

What goes on the wire (docs/resources-aws.md has the details and the permissions):

- S3 keys are sent as they are: a key with spaces, ``+``, ``%``, unicode or ``/`` is the same key
  in S3 and in the ``StorageEvent.key`` of its notification (which `_storage` decodes).
- A message body that is UTF-8 text of characters SQS accepts is the SQS body (or SNS message)
  exactly. Any other body (binary, or text with characters outside XML's set) is sent base64
  with the message attribute ``polyfn-encoding = base64``; the adapter's SQS and SNS readers
  decode it and drop the marker, so ``QueueMessage.body`` is the bytes sent.
- Message attributes are SQS / SNS String message attributes.
- A DynamoDB table has one String partition key ``pk``; a document's fields are the item's other
  attributes, beside ``_version`` (a Number, 1 on creation, +1 per write) and, when the document
  holds floats with an integral value, ``_floats`` (their paths: DynamoDB stores ``1.0`` as
  ``1``, and polyfn gives back the float that was put).
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import threading
import time
import uuid

from polyfn._resources import (
    AccessDenied,
    Conflict,
    NotFound,
    ObjectInfo,
    ResourceError,
    broken_rule,
    env_name,
)
from polyfn_aws._queue import BASE64, ENCODING_ATTRIBUTE

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import timedelta
    from typing import Any

    from polyfn._resources import OutgoingMessage

    # A value's place in a document as a chain (parent chain, key), made into a list only when
    # an error or a float marker needs it: most documents never pay for their paths.
    Chain = tuple[Any, Any] | None

# -- names ---------------------------------------------------------------------------------------
# Each cloud name rule as (what the rule says, a test the name passes). The builder reuses them.


def _not_ip(name: str) -> bool:
    return re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name) is None


# S3 general purpose bucket names.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("S3 bucket names are 3 to 63 characters long", lambda n: 3 <= len(n) <= 63),
    (
        "S3 bucket names hold only lowercase letters, digits, dots (.) and hyphens (-)",
        lambda n: re.fullmatch(r"[a-z0-9.-]+", n) is not None,
    ),
    (
        "S3 bucket names begin and end with a letter or digit",
        lambda n: n[:1].isalnum() and n[-1:].isalnum(),
    ),
    ("S3 bucket names hold no two adjacent dots", lambda n: ".." not in n),
    ("S3 bucket names are not formatted as an IP address", _not_ip),
    (
        "S3 bucket names do not start with xn--, sthree- or amzn-s3-demo-",
        lambda n: not n.startswith(("xn--", "sthree-", "amzn-s3-demo-")),
    ),
    (
        "S3 bucket names do not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3",
        lambda n: not n.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")),
    ),
)

# SQS queue names; a FIFO queue's name ends in ".fifo", counted in the 80.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
QUEUE_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("SQS queue names are 1 to 80 characters long", lambda n: 1 <= len(n) <= 80),
    (
        "SQS queue names hold only letters, digits, hyphens (-) and underscores (_), and a FIFO "
        "queue's name ends in .fifo",
        lambda n: re.fullmatch(r"[A-Za-z0-9_-]+(\.fifo)?", n) is not None,
    ),
)

# SNS topic names; a FIFO topic's name ends in ".fifo".
# https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
TOPIC_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("SNS topic names are 1 to 256 characters long", lambda n: 1 <= len(n) <= 256),
    (
        "SNS topic names hold only letters, digits, hyphens (-) and underscores (_), and a FIFO "
        "topic's name ends in .fifo",
        lambda n: re.fullmatch(r"[A-Za-z0-9_-]+(\.fifo)?", n) is not None,
    ),
)

# DynamoDB table names.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
TABLE_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("DynamoDB table names are 3 to 255 characters long", lambda n: 3 <= len(n) <= 255),
    (
        "DynamoDB table names hold only letters, digits, underscores (_), hyphens (-) and dots",
        lambda n: re.fullmatch(r"[A-Za-z0-9_.-]+", n) is not None,
    ),
)

# Secrets Manager secret names.
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
SECRET_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Secrets Manager secret names are 1 to 512 characters long", lambda n: 1 <= len(n) <= 512),
    (
        "Secrets Manager secret names hold only ASCII letters, digits and /_+=.@-",
        lambda n: re.fullmatch(r"[A-Za-z0-9/_+=.@-]+", n) is not None,
    ),
)

NAME_RULES: dict[str, tuple[tuple[str, Callable[[str], bool]], ...]] = {
    "bucket": BUCKET_NAME_RULES,
    "queue": QUEUE_NAME_RULES,
    "topic": TOPIC_NAME_RULES,
    "table": TABLE_NAME_RULES,
    "secret": SECRET_NAME_RULES,
}


def broken_name_rule(kind: str, name: str) -> str | None:
    """The first AWS naming rule `name` breaks as a `kind`'s physical name, or None."""
    return broken_rule(NAME_RULES[kind], name)


# -- limits and wire details ---------------------------------------------------------------------

# SendMessage: a message (body plus attribute names, types and values) is at most 1 MiB since
# August 2025 (it was 256 KiB); a queue may set a lower MaximumMessageSize, read on first send.
# SendMessageBatch: at most 10 entries, whose sizes add up to at most the same 1 MiB.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
SQS_MAX_MESSAGE_BYTES = 1_048_576
SQS_BATCH_ENTRIES = 10
# DelaySeconds: 0 to 900; FIFO queues take no per-message delay.
SQS_MAX_DELAY_SECONDS = 900
# A message carries at most 10 message attributes (SQS and SNS alike).
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
MAX_MESSAGE_ATTRIBUTES = 10
# SNS Publish: UTF-8 text of at most 256 KiB, attributes included.
# https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
SNS_MAX_MESSAGE_BYTES = 262_144
# The characters an SQS body may hold (XML 1.0's Char production); SNS messages fanned out to SQS
# must hold the same, so topics follow the same rule.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
_NOT_SQS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A FIFO topic needs a message group; Topic.publish has none, so every message of a FIFO topic
# goes to this one group (total order, the strictest reading).
TOPIC_GROUP = "polyfn"
# SigV4 presigned URLs live at most 7 days.
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
MAX_SIGNED_URL_SECONDS = 604_800
# DynamoDB's partition key and the attributes polyfn keeps beside a document's fields.
TABLE_KEY = "pk"
VERSION_ATTRIBUTE = "_version"
FLOATS_ATTRIBUTE = "_floats"
RESERVED_FIELDS = (TABLE_KEY, VERSION_ATTRIBUTE, FLOATS_ATTRIBUTE)
# DynamoDB numbers: 38 significant digits, magnitude 1E-130 to below 1E+126.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
_MAX_NUMBER = 10**126
_MIN_NUMBER = 1e-130
_NUMBER_DIGITS = 38
# Botocore's retry attempts (the first call included) when the environment does not choose.
MAX_ATTEMPTS = 5
# send_batch: how often, and after how long, entries SQS reported throttled are sent again.
BATCH_RETRIES = 4
BATCH_BACKOFF_SECONDS = 0.05

# Error codes -> neutral errors. Codes of a missing *resource* (bucket, queue, topic, table,
# secret) get the advice about the POLYFN_<KIND>_<NAME> mapping; a missing object or document is
# an ordinary NotFound. https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html,
# https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html,
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html,
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
MISSING_RESOURCE_CODES = frozenset(
    {
        "NoSuchBucket",
        "NonExistentQueue",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NotFound",
        "NotFoundException",
        "ResourceNotFoundException",
    }
)
MISSING_ITEM_CODES = frozenset({"NoSuchKey", "404"})
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "403",
        "Forbidden",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "KMS.AccessDeniedException",
    }
)
CONFLICT_CODES = frozenset(
    {"ConditionalCheckFailedException", "TransactionConflictException", "PreconditionFailed"}
)
THROTTLED_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestThrottled", "ServiceUnavailable"}
)


# -- errors --------------------------------------------------------------------------------------


def _mapping(kind: str, name: str) -> tuple[str, bool]:
    """The ``POLYFN_<KIND>_<NAME>`` variable that gave the AWS name `name`, and whether it is
    set. Unset, the name is the handle's logical name, so the variable is the one named after
    it. (Error paths only: this reads the whole environment.)"""
    prefix = f"POLYFN_{kind.upper()}_"
    bare = name[: -len(".fifo")] if kind == "queue" and name.endswith(".fifo") else name
    for variable, value in os.environ.items():
        if variable.startswith(prefix) and value in (name, bare):
            return variable, True
    return env_name(kind, bare), False


def _logical(kind: str, variable: str) -> str | None:
    """The logical name of the running function's declared handle behind `variable`, if any."""
    from polyfn import _resources

    current = getattr(_resources, "_CURRENT", None)
    running = current.get() if current is not None else None
    function = running[1] if running else None
    for key in getattr(function, "allowed", ()):
        if key[0] == kind and env_name(kind, key[1]) == variable:
            return str(key[1])
    return None


def _describe(kind: str, name: str) -> str:
    """How an error names a resource: its logical name where known, its AWS name and the
    variable that gave it."""
    variable, is_set = _mapping(kind, name)
    if not is_set:
        return f"{kind} {name!r}"
    logical = _logical(kind, variable)
    handle = f"{kind} {logical!r}" if logical else kind
    return f"{handle} (AWS name {name!r}, from {variable})"


def _advice(kind: str, name: str) -> str:
    """What to do about a resource AWS says does not exist."""
    variable, is_set = _mapping(kind, name)
    if is_set:
        return (
            f"check that {variable} names an existing {kind} in this account and region "
            f"({_region() or 'no region set'})"
        )
    return (
        f"{variable} is not set, so the logical name was used: set it to the {kind}'s name in "
        "AWS (the builder does for deployed functions), or create the resource"
    )


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def to_resource_error(exc: Exception, kind: str, name: str, operation: str) -> Exception:
    """The neutral error for a boto3 failure of `operation` on resource `name` (the SDK's
    exception becomes its ``__cause__`` where the caller raises it ``from exc``); an exception
    that is not boto3's is returned as it is."""
    what = f"{_describe(kind, name)}: {operation} failed"
    resource = f"{kind}:{name}"
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        if not type(exc).__module__.startswith(("botocore", "boto3", "urllib3")):
            return exc
        return ResourceError(
            f"{what}: {exc} (check the endpoint, region and credentials boto3 uses)",
            resource=resource,
            operation=operation,
        )
    error = response.get("Error") or {}
    code = str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    message = error.get("Message") or code
    if code in MISSING_RESOURCE_CODES:
        return NotFound(
            f"{what}: the {kind} does not exist ({code}: {message}); {_advice(kind, name)}",
            resource=resource,
            operation=operation,
        )
    if code in MISSING_ITEM_CODES:
        return NotFound(f"{what}: not found ({code})", resource=resource, operation=operation)
    if code in ACCESS_DENIED_CODES:
        return AccessDenied(
            f"{what}: AWS refused it ({code}: {message}); the function's role needs this "
            f"permission (the builder grants what uses= declares)",
            resource=resource,
            operation=operation,
        )
    if code in CONFLICT_CODES:
        return Conflict(f"{what}: {code}: {message}", resource=resource, operation=operation)
    hint = " (throttled after botocore's retries)" if code in THROTTLED_CODES else ""
    return ResourceError(f"{what}: {code}: {message}{hint}", resource=resource, operation=operation)


# -- the backend ---------------------------------------------------------------------------------


class AwsBackend:
    """One boto3 client per service, built on first use and shared by every handle."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._session: Any = None
        self._lock = threading.Lock()
        self._account: tuple[str, str] | None = None  # (partition, account id)

    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is not None:
            return found
        with self._lock:  # boto3's session is not thread-safe; its clients are
            found = self._clients.get(service)
            if found is None:
                if self._session is None:
                    self._session = _new_session()
                # One session for every service: it loads the endpoint and partition data once.
                found = self._clients[service] = _new_client(self._session, service)
        return found

    def account(self) -> tuple[str, str]:
        """(partition, account id) of the credentials, for ARNs built from names.
        GetCallerIdentity needs no permission:
        https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"""
        if self._account is None:
            arn = self.client("sts").get_caller_identity()["Arn"]
            parts = arn.split(":")
            self._account = (parts[1], parts[4])
        return self._account

    def bucket(self, name: str) -> S3Bucket:
        return S3Bucket(self, _checked("bucket", name))

    def queue(self, name: str, fifo: bool) -> SqsQueue:
        if not name.startswith(("https://", "http://")):
            if fifo and not name.endswith(".fifo"):
                name += ".fifo"
            _checked("queue", name)
        return SqsQueue(self, name, fifo)

    def topic(self, name: str) -> SnsTopic:
        if not name.startswith("arn:"):
            _checked("topic", name)
        return SnsTopic(self, name)

    def table(self, name: str) -> DynamoTable:
        return DynamoTable(self, _checked("table", name))

    def secret(self, name: str) -> AwsSecret:
        if not name.startswith("arn:"):
            _checked("secret", name)
        return AwsSecret(self, name)


def _checked(kind: str, name: str) -> str:
    rule = broken_name_rule(kind, name)
    if rule is not None:
        raise ResourceError(
            f"{_describe(kind, name)}: {name!r} is not a valid AWS name: {rule}; "
            f"set {_mapping(kind, name)[0]} to a valid name",
            resource=f"{kind}:{name}",
        )
    return name


def _new_session() -> Any:
    try:
        import boto3  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ResourceError("boto3 is not installed: pip install 'polyfn-aws[resources]'") from exc
    return boto3.session.Session()


def _new_client(session: Any, service: str) -> Any:
    from botocore.config import Config  # type: ignore[import-untyped]

    options: dict[str, Any] = {}
    if not (os.environ.get("AWS_RETRY_MODE") or os.environ.get("AWS_MAX_ATTEMPTS")):
        options["retries"] = {"mode": "standard", "max_attempts": MAX_ATTEMPTS}
    if service == "s3":
        options["signature_version"] = "s3v4"  # presigned URLs: SigV4 in every region
    try:
        return session.client(service, region_name=_region(), config=Config(**options))
    except Exception as exc:
        raise ResourceError(
            f"cannot create the boto3 {service} client: {exc} (set AWS_REGION, and "
            "AWS_ENDPOINT_URL for an emulator)"
        ) from exc


# -- S3 ------------------------------------------------------------------------------------------


class _OnService:
    """One resource on one AWS service: the backend's client for `SERVICE` and the AWS name."""

    SERVICE = ""
    __slots__ = ("_backend", "name")

    def __init__(self, backend: AwsBackend, name: str) -> None:
        self._backend = backend
        self.name = name

    def _service(self) -> Any:
        return self._backend.client(self.SERVICE)


class S3Bucket(_OnService):
    SERVICE = "s3"
    __slots__ = ()

    def _s3(self) -> Any:
        return self._service()

    def read(self, key: str) -> bytes:
        try:
            answer = self._s3().get_object(Bucket=self.name, Key=key)
            data: bytes = answer["Body"].read()
        except Exception as exc:
            error = to_resource_error(exc, "bucket", self.name, f"read {key!r}")
            if isinstance(error, NotFound) and not _bucket_missing(exc):
                error = NotFound(
                    f"{_describe('bucket', self.name)} has no object {key!r}",
                    resource=f"bucket:{self.name}",
                    operation="read",
                )
            raise error from exc
        return data

    def write(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> None:
        params: dict[str, Any] = {"Bucket": self.name, "Key": key, "Body": data}
        if content_type:
            params["ContentType"] = content_type
        if metadata:
            params["Metadata"] = _s3_metadata(metadata, self.name)
        try:
            self._s3().put_object(**params)
        except Exception as exc:
            raise to_resource_error(exc, "bucket", self.name, f"write {key!r}") from exc

    def delete(self, key: str) -> None:
        try:
            self._s3().delete_object(Bucket=self.name, Key=key)
        except Exception as exc:
            raise to_resource_error(exc, "bucket", self.name, f"delete {key!r}") from exc

    def info(self, key: str) -> ObjectInfo | None:
        try:
            head = self._s3().head_object(Bucket=self.name, Key=key)
        except Exception as exc:
            error = to_resource_error(exc, "bucket", self.name, f"info {key!r}")
            # HEAD answers a bare 404 for a missing object (and for a missing bucket: a HEAD
            # response has no body to tell them apart).
            if isinstance(error, NotFound) and not _bucket_missing(exc):
                return None
            raise error from exc
        return ObjectInfo(
            key,
            size=head["ContentLength"],
            etag=_etag(head.get("ETag")),
            content_type=head.get("ContentType"),
            updated=head.get("LastModified"),
            metadata=head.get("Metadata") or {},
        )

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        pages = (
            self._s3().get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        )
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    yield ObjectInfo(
                        item["Key"],
                        size=item["Size"],
                        etag=_etag(item.get("ETag")),
                        updated=item.get("LastModified"),
                    )
        except Exception as exc:
            raise to_resource_error(exc, "bucket", self.name, f"list {prefix!r}") from exc

    def signed_url(self, key: str, method: str, expires: timedelta) -> str:
        seconds = int(expires.total_seconds())
        if seconds > MAX_SIGNED_URL_SECONDS:
            raise ResourceError(
                f"{_describe('bucket', self.name)}: signed_url expires after at most 7 days "
                f"({MAX_SIGNED_URL_SECONDS} s) on S3 (SigV4), got {seconds} s",
                resource=f"bucket:{self.name}",
                operation="signed_url",
            )
        operation = "get_object" if method == "GET" else "put_object"
        try:
            url: str = self._s3().generate_presigned_url(
                operation, Params={"Bucket": self.name, "Key": key}, ExpiresIn=max(seconds, 1)
            )
        except Exception as exc:
            raise to_resource_error(exc, "bucket", self.name, f"signed_url {key!r}") from exc
        return url


def _bucket_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and (response.get("Error") or {}).get("Code") == (
        "NoSuchBucket"
    )


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else value


def _s3_metadata(metadata: dict[str, str], bucket: str) -> dict[str, str]:
    """User metadata travels as x-amz-meta-* HTTP headers: US-ASCII, and S3 gives the names back
    in lowercase, so polyfn lowercases them on every cloud's behalf here.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata"""
    out: dict[str, str] = {}
    for name, value in metadata.items():
        if not (name.isascii() and value.isascii()) or any(c in name + value for c in "\r\n"):
            raise ResourceError(
                f"{_describe('bucket', bucket)}: write metadata {name!r}: {value!r}: S3 user "
                "metadata names and values are US-ASCII text on one line (encode other text, "
                "e.g. as JSON with ASCII escapes)",
                resource=f"bucket:{bucket}",
                operation="write",
            )
        out[name.lower()] = value
    return out


# -- SQS and SNS ---------------------------------------------------------------------------------


def wire_body(body: bytes) -> tuple[str, bool]:
    """The text that carries `body` on SQS or SNS, and whether it is base64 (marked)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True
    if text and _NOT_SQS_TEXT.search(text) is None:
        return text, False
    return base64.b64encode(body).decode("ascii"), True


def _attribute_map(
    attributes: dict[str, str], encoded: bool, kind: str, name: str, what: str
) -> tuple[dict[str, Any], int]:
    """SQS/SNS String message attributes and the bytes they count towards the size limit."""
    mapped: dict[str, Any] = {}
    size = 0
    if encoded:
        attributes = {**attributes, ENCODING_ATTRIBUTE: BASE64}
    elif ENCODING_ATTRIBUTE in attributes:
        # A sender's own marker would make the reader decode a body that is not base64.
        raise _refused(kind, name, what, f"the attribute name {ENCODING_ATTRIBUTE!r} is polyfn's")
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise _refused(
            kind,
            name,
            what,
            f"AWS carries at most {MAX_MESSAGE_ATTRIBUTES} message attributes, got "
            f"{len(attributes)}" + (" (one is polyfn's base64 marker)" if encoded else ""),
        )
    for key, value in attributes.items():
        if not value or _NOT_SQS_TEXT.search(value) is not None:
            raise _refused(
                kind,
                name,
                what,
                f"attribute {key!r}: AWS needs a non-empty value of XML text characters",
            )
        mapped[key] = {"DataType": "String", "StringValue": value}
        size += len(key.encode()) + 6 + len(value.encode())  # 6: len("String")
    return mapped, size


def _refused(kind: str, name: str, what: str, reason: str) -> ResourceError:
    return ResourceError(
        f"{_describe(kind, name)}: {what} refused before sending: {reason}",
        resource=f"{kind}:{name}",
        operation=what,
    )


class SqsQueue:
    __slots__ = ("_backend", "_limit", "_url", "fifo", "name")

    def __init__(self, backend: AwsBackend, name: str, fifo: bool) -> None:
        self._backend = backend
        self.fifo = fifo or name.endswith(".fifo")
        self._url: str | None = None
        self._limit: int | None = None
        if name.startswith(("https://", "http://")):
            self._url = name
            name = name.rstrip("/").rsplit("/", 1)[-1]
        self.name = name

    def _sqs(self) -> Any:
        return self._backend.client("sqs")

    def _queue_url(self, operation: str) -> str:
        url = self._url
        if url is None:
            try:
                url = self._url = self._sqs().get_queue_url(QueueName=self.name)["QueueUrl"]
            except Exception as exc:
                raise to_resource_error(exc, "queue", self.name, operation) from exc
        return url

    def _max_bytes(self, url: str) -> int:
        """The queue's MaximumMessageSize, read once per process; where the role may not read
        it, the service's maximum (SQS refuses what is bigger anyway, then with its own error)."""
        limit = self._limit
        if limit is None:
            try:
                found = self._sqs().get_queue_attributes(
                    QueueUrl=url, AttributeNames=["MaximumMessageSize"]
                )["Attributes"]["MaximumMessageSize"]
                limit = int(found)
            except Exception:
                limit = SQS_MAX_MESSAGE_BYTES
            self._limit = limit
        return limit

    def _entry(self, message: OutgoingMessage, url: str, what: str) -> tuple[dict[str, Any], int]:
        """SendMessage parameters (without the URL) and their size; refuses what SQS would."""
        if not message.body:
            raise _refused("queue", self.name, what, "SQS needs a body of at least one byte")
        text, encoded = wire_body(message.body)
        params: dict[str, Any] = {"MessageBody": text}
        size = len(text.encode())
        if message.attributes or encoded:
            params["MessageAttributes"], extra = _attribute_map(
                message.attributes, encoded, "queue", self.name, what
            )
            size += extra
        if message.group is not None:
            params["MessageGroupId"] = message.group
        if self.fifo:
            # A new id per message, not content-based deduplication: two sends of the same body
            # are two messages on every cloud, and the queue need not enable
            # ContentBasedDeduplication. The id stays the same across retries of the message, so
            # a retried send that had in fact arrived is not delivered twice.
            params["MessageDeduplicationId"] = uuid.uuid4().hex
        if message.delay:
            if self.fifo:
                raise _refused(
                    "queue", self.name, what, "FIFO queues take no per-message delay on SQS"
                )
            if message.delay > SQS_MAX_DELAY_SECONDS:
                raise _refused(
                    "queue",
                    self.name,
                    what,
                    f"SQS delays a message by at most {SQS_MAX_DELAY_SECONDS} s, "
                    f"got {message.delay}",
                )
            params["DelaySeconds"] = message.delay
        limit = self._max_bytes(url)
        if size > limit:
            raise _refused(
                "queue",
                self.name,
                what,
                f"the message is {size} bytes on the wire"
                + (" (base64 of a binary body)" if encoded else "")
                + f", over the queue's limit of {limit} bytes (SQS MaximumMessageSize; "
                f"the service allows at most {SQS_MAX_MESSAGE_BYTES})",
            )
        return params, size

    def send(self, message: OutgoingMessage) -> str:
        url = self._queue_url("send")
        params, _ = self._entry(message, url, "send")
        try:
            answer = self._sqs().send_message(QueueUrl=url, **params)
        except Exception as exc:
            raise to_resource_error(exc, "queue", self.name, "send") from exc
        message_id: str = answer["MessageId"]
        return message_id

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[str | ResourceError]:
        url = self._queue_url("send_batch")
        outcomes: list[str | ResourceError | None] = [None] * len(messages)
        chunk: list[tuple[int, dict[str, Any]]] = []
        chunk_bytes = 0
        sent_any = False
        for index, message in enumerate(messages):
            try:
                params, size = self._entry(message, url, f"send_batch entry {index}")
            except ResourceError as exc:
                outcomes[index] = exc
                continue
            if len(chunk) == SQS_BATCH_ENTRIES or chunk_bytes + size > self._max_bytes(url):
                sent_any = self._send_chunk(url, chunk, outcomes, sent_any)
                chunk, chunk_bytes = [], 0
            chunk.append((index, params))
            chunk_bytes += size
        if chunk:
            self._send_chunk(url, chunk, outcomes, sent_any)
        return [o if o is not None else _lost(self.name) for o in outcomes]

    def _send_chunk(
        self,
        url: str,
        chunk: list[tuple[int, dict[str, Any]]],
        outcomes: list[str | ResourceError | None],
        sent_any: bool,
    ) -> bool:
        """One SendMessageBatch, and again for the entries SQS reports throttled or failed on its
        side (not the sender's fault). A request that fails as a whole raises when nothing has
        been sent yet, else marks the chunk's entries failed."""
        pending = {str(index): params for index, params in chunk}
        for attempt in range(BATCH_RETRIES + 1):
            entries = [{"Id": entry_id, **params} for entry_id, params in pending.items()]
            try:
                answer = self._sqs().send_message_batch(QueueUrl=url, Entries=entries)
            except Exception as exc:
                error = to_resource_error(exc, "queue", self.name, "send_batch")
                if not sent_any or not isinstance(error, ResourceError):
                    raise error from exc
                error.__cause__ = exc
                for entry_id in pending:
                    outcomes[int(entry_id)] = error
                return sent_any
            for done in answer.get("Successful", ()):
                outcomes[int(done["Id"])] = done["MessageId"]
                pending.pop(done["Id"], None)
                sent_any = True
            retry: dict[str, dict[str, Any]] = {}
            for failed in answer.get("Failed", ()):
                entry_id = failed["Id"]
                params = pending.pop(entry_id, None)
                if params is None:
                    continue
                if not failed.get("SenderFault") and attempt < BATCH_RETRIES:
                    retry[entry_id] = params
                    continue
                outcomes[int(entry_id)] = ResourceError(
                    f"{_describe('queue', self.name)}: send_batch entry {entry_id} failed: "
                    f"{failed.get('Code')}: {failed.get('Message') or ''}".rstrip(": "),
                    resource=f"queue:{self.name}",
                    operation="send_batch",
                )
            for entry_id, params in pending.items():  # reported neither way by SQS
                retry.setdefault(entry_id, params)
            if not retry:
                break
            pending = retry
            time.sleep(BATCH_BACKOFF_SECONDS * 2**attempt * (1 + _jitter()))
        return sent_any


def _jitter() -> float:
    import random

    return random.random()


def _lost(name: str) -> ResourceError:
    return ResourceError(
        f"{_describe('queue', name)}: send_batch: SQS reported nothing for this entry after "
        f"{BATCH_RETRIES} retries; it may not have been sent",
        resource=f"queue:{name}",
        operation="send_batch",
    )


class SnsTopic:
    __slots__ = ("_arn", "_backend", "fifo", "name")

    def __init__(self, backend: AwsBackend, name: str) -> None:
        self._backend = backend
        self._arn: str | None = name if name.startswith("arn:") else None
        self.name = name.rsplit(":", 1)[-1]
        self.fifo = self.name.endswith(".fifo")

    def _topic_arn(self) -> str:
        arn = self._arn
        if arn is None:
            try:
                partition, account = self._backend.account()
                region = self._backend.client("sns").meta.region_name
            except Exception as exc:
                raise to_resource_error(exc, "topic", self.name, "publish") from exc
            arn = self._arn = f"arn:{partition}:sns:{region}:{account}:{self.name}"
        return arn

    def publish(self, message: OutgoingMessage) -> str:
        what = "publish"
        if not message.body:
            raise _refused("topic", self.name, what, "SNS needs a message of at least one byte")
        text, encoded = wire_body(message.body)
        params: dict[str, Any] = {"TopicArn": self._topic_arn(), "Message": text}
        size = len(text.encode())
        if message.attributes or encoded:
            params["MessageAttributes"], extra = _attribute_map(
                message.attributes, encoded, "topic", self.name, what
            )
            size += extra
        if size > SNS_MAX_MESSAGE_BYTES:
            raise _refused(
                "topic",
                self.name,
                what,
                f"the message is {size} bytes on the wire"
                + (" (base64 of a binary body)" if encoded else "")
                + f", over SNS's limit of {SNS_MAX_MESSAGE_BYTES} bytes",
            )
        if self.fifo:
            params["MessageGroupId"] = message.group or TOPIC_GROUP
            params["MessageDeduplicationId"] = uuid.uuid4().hex
        try:
            answer = self._backend.client("sns").publish(**params)
        except Exception as exc:
            raise to_resource_error(exc, "topic", self.name, what) from exc
        message_id: str = answer["MessageId"]
        return message_id


# -- DynamoDB ------------------------------------------------------------------------------------


class DynamoTable(_OnService):
    SERVICE = "dynamodb"
    __slots__ = ()

    def _ddb(self) -> Any:
        return self._service()

    def get(self, key: str) -> tuple[dict[str, Any], str] | None:
        try:
            item = (
                self._ddb()
                .get_item(TableName=self.name, Key={TABLE_KEY: {"S": key}}, ConsistentRead=True)
                .get("Item")
            )
        except Exception as exc:
            raise to_resource_error(exc, "table", self.name, f"get {key!r}") from exc
        if item is None:
            return None
        return from_item(item)

    def put(self, key: str, fields: dict[str, Any], if_absent: bool, if_version: str | None) -> str:
        what = f"put {key!r}"
        item = to_item(fields, self.name)
        item[TABLE_KEY] = {"S": key}
        if if_absent:
            return self._put(item, key, 0, "attribute_not_exists(pk)", what)
        if if_version is not None:
            return self._put(item, key, _version_number(if_version, self.name, what), None, what)
        # An unconditional put still moves the version on by one: read it, then write on the
        # condition that nobody wrote in between (and again if somebody did).
        for _ in range(BATCH_RETRIES + 1):
            current = self._current_version(key, what)
            condition = "attribute_not_exists(pk)" if current is None else None
            try:
                return self._put(item, key, current or 0, condition, what)
            except Conflict:
                continue
        raise Conflict(
            f"{_describe('table', self.name)}: {what}: other writers changed the document "
            f"{BATCH_RETRIES + 1} times while it was written",
            resource=f"table:{self.name}",
            operation="put",
        )

    def _current_version(self, key: str, what: str) -> int | None:
        try:
            item = (
                self._ddb()
                .get_item(
                    TableName=self.name,
                    Key={TABLE_KEY: {"S": key}},
                    ConsistentRead=True,
                    ProjectionExpression="#v",
                    ExpressionAttributeNames={"#v": VERSION_ATTRIBUTE},
                )
                .get("Item")
            )
        except Exception as exc:
            raise to_resource_error(exc, "table", self.name, what) from exc
        if item is None:
            return None
        return int(item.get(VERSION_ATTRIBUTE, {}).get("N", "0"))

    def _put(
        self, item: dict[str, Any], key: str, previous: int, condition: str | None, what: str
    ) -> str:
        version = previous + 1
        item[VERSION_ATTRIBUTE] = {"N": str(version)}
        params: dict[str, Any] = {"TableName": self.name, "Item": item}
        if condition is not None:
            params["ConditionExpression"] = condition
        else:
            params["ConditionExpression"] = "#v = :v"
            params["ExpressionAttributeNames"] = {"#v": VERSION_ATTRIBUTE}
            params["ExpressionAttributeValues"] = {":v": {"N": str(previous)}}
        try:
            self._ddb().put_item(**params)
        except Exception as exc:
            error = to_resource_error(exc, "table", self.name, what)
            if isinstance(error, Conflict):
                error = _conflict(self.name, key, what, condition is not None)
            raise error from exc
        return str(version)

    def delete(self, key: str, if_version: str | None) -> None:
        what = f"delete {key!r}"
        params: dict[str, Any] = {"TableName": self.name, "Key": {TABLE_KEY: {"S": key}}}
        if if_version is not None:
            params["ConditionExpression"] = "#v = :v"
            params["ExpressionAttributeNames"] = {"#v": VERSION_ATTRIBUTE}
            params["ExpressionAttributeValues"] = {
                ":v": {"N": str(_version_number(if_version, self.name, what))}
            }
        try:
            self._ddb().delete_item(**params)
        except Exception as exc:
            error = to_resource_error(exc, "table", self.name, what)
            if isinstance(error, Conflict):
                error = _conflict(self.name, key, what, False)
            raise error from exc


def _conflict(table: str, key: str, what: str, if_absent: bool) -> Conflict:
    reason = "a document exists" if if_absent else "the stored version is not the one given"
    return Conflict(
        f"{_describe('table', table)}: {what}: {reason} (DynamoDB ConditionalCheckFailed); "
        "get the document again and retry",
        resource=f"table:{table}",
        operation=what.split(" ", 1)[0],
    )


def _version_number(version: str, table: str, what: str) -> int:
    if not (isinstance(version, str) and version.isdigit()):
        raise Conflict(
            f"{_describe('table', table)}: {what}: version {version!r} is none this table "
            "gives (versions come from get() and put())",
            resource=f"table:{table}",
            operation=what.split(" ", 1)[0],
        )
    return int(version)


def to_item(fields: dict[str, Any], table: str) -> dict[str, Any]:
    """A document's JSON fields as DynamoDB attribute values (plus `_floats` where needed)."""
    for name in RESERVED_FIELDS:
        if name in fields:
            raise ResourceError(
                f"{_describe('table', table)}: put: the field name {name!r} is reserved on "
                f"DynamoDB (polyfn keeps the key in {TABLE_KEY!r}, the version in "
                f"{VERSION_ATTRIBUTE!r} and float markers in {FLOATS_ATTRIBUTE!r})",
                resource=f"table:{table}",
                operation="put",
            )
    floats: list[str] = []
    item = {name: _to_value(value, (None, name), floats, table) for name, value in fields.items()}
    if floats:
        item[FLOATS_ATTRIBUTE] = {"L": [{"S": path} for path in floats]}
    return item


def _path(chain: Chain) -> list[Any]:
    path: list[Any] = []
    while chain is not None:
        chain, key = chain
        path.append(key)
    return path[::-1]


def _to_value(value: Any, chain: Chain, floats: list[str], table: str) -> dict[str, Any]:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int:
        if -_INT_LIMIT < value < _INT_LIMIT or _fits(value):
            return {"N": str(value)}
        raise _bad_number(value, chain, table)
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is float:
        if math.isnan(value) or abs(value) >= _MAX_NUMBER or (value and abs(value) < _MIN_NUMBER):
            raise _bad_number(value, chain, table)
        if value.is_integer():
            floats.append(json.dumps(_path(chain)))
        return {"N": repr(value)}
    if kind is list:
        return {"L": [_to_value(v, (chain, i), floats, table) for i, v in enumerate(value)]}
    if kind is dict:
        return {"M": {k: _to_value(v, (chain, k), floats, table) for k, v in value.items()}}
    raise ResourceError(  # the core hands over JSON values only
        f"{_describe('table', table)}: put: {kind.__name__} at {_path(chain)} is no JSON value",
        resource=f"table:{table}",
        operation="put",
    )


# Integers below this magnitude always fit DynamoDB's 38 digits.
_INT_LIMIT = 10**_NUMBER_DIGITS


def _fits(value: int) -> bool:
    return len(str(abs(value)).rstrip("0")) <= _NUMBER_DIGITS and abs(value) < _MAX_NUMBER


def _bad_number(value: Any, chain: Chain, table: str) -> ResourceError:
    return ResourceError(
        f"{_describe('table', table)}: put: the number {value!r} at {_path(chain)} does not "
        f"fit DynamoDB's numbers ({_NUMBER_DIGITS} significant digits, magnitude 1E-130 to "
        "1E+126): store it as a string",
        resource=f"table:{table}",
        operation="put",
    )


def from_item(item: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(document fields, version) of a DynamoDB item `to_item` wrote (or any item)."""
    version = item.get(VERSION_ATTRIBUTE)
    marked = item.get(FLOATS_ATTRIBUTE)
    if marked is None:
        fields = {n: _plain(value) for n, value in item.items() if n not in RESERVED_FIELDS}
    else:
        floats = {tuple(json.loads(p["S"])) for p in marked.get("L", ())}
        fields = {
            name: _tracked(value, (name,), floats)
            for name, value in item.items()
            if name not in RESERVED_FIELDS
        }
    return fields, version.get("N", "0") if version else "0"


def _plain(value: dict[str, Any]) -> Any:
    """A DynamoDB value as JSON, in a document without float markers."""
    for tag, inner in value.items():
        if tag in {"S", "BOOL"}:
            return inner
        if tag == "N":
            return _number(inner)
        if tag == "M":
            return {k: _plain(v) for k, v in inner.items()}
        if tag == "L":
            return [_plain(v) for v in inner]
        return _other(tag, inner, ())
    raise ResourceError("an empty DynamoDB attribute value has no JSON form")


def _tracked(value: dict[str, Any], path: tuple[Any, ...], floats: set[tuple[Any, ...]]) -> Any:
    """`_plain` for a document whose integral floats are listed in `floats` (their paths)."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return float(inner) if path in floats else _number(inner)
    if tag == "M":
        return {k: _tracked(v, (*path, k), floats) for k, v in inner.items()}
    if tag == "L":
        return [_tracked(v, (*path, i), floats) for i, v in enumerate(inner)]
    return _plain(value)


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        from decimal import Decimal

        number = Decimal(text)
        # An integral value polyfn did not mark as a float was an int ("1E+2" is 100).
        return int(number) if number == number.to_integral_value() else float(number)
    return int(text)


def _other(tag: str, inner: Any, path: tuple[Any, ...]) -> Any:
    if tag == "NULL":
        return None
    if tag in ("SS", "NS", "BS"):  # sets written by other tools: JSON has only lists
        return [_plain({tag[0]: v}) for v in inner]
    if tag == "B":
        return base64.b64encode(inner).decode("ascii")
    raise ResourceError(f"DynamoDB attribute type {tag!r} at {list(path)} has no JSON form")


# -- Secrets Manager -----------------------------------------------------------------------------


class AwsSecret(_OnService):
    SERVICE = "secretsmanager"
    __slots__ = ()

    def value(self) -> str:
        try:
            answer = self._service().get_secret_value(SecretId=self.name)
        except Exception as exc:
            raise to_resource_error(exc, "secret", self.name, "value") from exc
        text = answer.get("SecretString")
        if text is not None:
            return str(text)
        try:
            return bytes(answer["SecretBinary"]).decode("utf-8")
        except (KeyError, UnicodeDecodeError) as exc:
            raise ResourceError(
                f"{_describe('secret', self.name)}: value: the secret holds binary data that "
                "is not UTF-8 text; Secret.value() returns text: store it as SecretString "
                "(base64 it first if it is binary)",
                resource=f"secret:{self.name}",
                operation="value",
            ) from exc
