"""The neutral non-HTTP events: timer ticks, storage-object events and queue messages."""

from __future__ import annotations

import json

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from typing import Any

    from polyfn._schedule import Schedule

# `QueueMessage._enqueued_time` before it is read (None is a value: the cloud does not say).
_UNREAD: Any = object()

STORAGE_KINDS = ("created", "deleted", "archived", "metadata_updated")


class TimerEvent:
    """A schedule fired. `scheduled_time` is when it was due (UTC) where the cloud says so."""

    __slots__ = ("name", "past_due", "raw", "schedule", "scheduled_time")

    def __init__(
        self,
        name: str,
        schedule: Schedule | None,
        scheduled_time: datetime | None = None,
        past_due: bool = False,
        raw: Any = None,
    ) -> None:
        self.name = name
        self.schedule = schedule
        self.scheduled_time = scheduled_time
        self.past_due = past_due
        self.raw = raw

    def __repr__(self) -> str:
        return (
            f"TimerEvent(name={self.name!r}, scheduled_time={self.scheduled_time!r}, "
            f"past_due={self.past_due!r})"
        )


class StorageEvent:
    """An object in a bucket (S3 bucket, Azure container, Cloud Storage bucket) changed.

    `key` is decoded (S3's ``+`` is already a space); `size` is None where the cloud does not say
    (deletes); `version` is the S3 version id, the Azure version/etag, or the GCS generation.
    """

    __slots__ = (
        "bucket",
        "content_type",
        "etag",
        "key",
        "kind",
        "raw",
        "size",
        "time",
        "version",
    )

    def __init__(
        self,
        kind: str,
        bucket: str,
        key: str,
        *,
        time: datetime,
        size: int | None = None,
        etag: str | None = None,
        content_type: str | None = None,
        version: str | None = None,
        raw: Any = None,
    ) -> None:
        if kind not in STORAGE_KINDS:
            raise ValueError(f"storage event kind must be one of {STORAGE_KINDS}, got {kind!r}")
        self.kind = kind
        self.bucket = bucket
        self.key = key
        self.time = time
        self.size = size
        self.etag = etag
        self.content_type = content_type
        self.version = version
        self.raw = raw

    def __repr__(self) -> str:
        return f"StorageEvent({self.kind} {self.bucket}/{self.key}, size={self.size!r})"


class QueueMessage:
    """One message from a queue (SQS, SNS, Azure Storage queue or Service Bus, Pub/Sub).

    `delivery_count` is 1 on the first delivery; `group` is the FIFO message group, Service Bus
    session or Pub/Sub ordering key where there is one. Raising from the handler fails this message
    alone where the cloud allows it, and the whole invocation elsewhere: it is never acknowledged.
    """

    __slots__ = (
        "_attributes",
        "_enqueued_time",
        "body",
        "delivery_count",
        "group",
        "id",
        "queue",
        "raw",
    )

    def __init__(
        self,
        id: str,
        body: bytes,
        *,
        queue: str,
        attributes: Mapping[str, str] | None = None,
        delivery_count: int = 1,
        enqueued_time: datetime | None = None,
        group: str | None = None,
        raw: Any = None,
    ) -> None:
        self.id = id
        self.body = body if type(body) is bytes else bytes(body)
        self.queue = queue
        # None: not read yet (`_read_attributes` says what they are on first use).
        self._attributes: dict[str, str] | None = None if attributes is None else dict(attributes)
        self.delivery_count = delivery_count
        self._enqueued_time: Any = _UNREAD if enqueued_time is None else enqueued_time
        self.group = group
        self.raw = raw

    @property
    def attributes(self) -> dict[str, str]:
        """The message's attributes (what the sender set), as strings."""
        value = self._attributes
        if value is None:
            value = self._attributes = self._read_attributes()
        return value

    @attributes.setter
    def attributes(self, value: dict[str, str]) -> None:
        self._attributes = value

    @property
    def enqueued_time(self) -> datetime | None:
        """When the queue took the message (UTC), where the cloud says so."""
        if self._enqueued_time is _UNREAD:
            self._enqueued_time = self._read_enqueued_time()
        value: datetime | None = self._enqueued_time
        return value

    @enqueued_time.setter
    def enqueued_time(self, value: datetime | None) -> None:
        self._enqueued_time = value

    # A cloud's message class overrides these to read a field from the native message when a
    # handler first asks (polyfn_aws.SqsMessage: a batch pays for no attribute map and no clock
    # arithmetic its handler never uses); `__init__` stays the one constructor.
    def _read_attributes(self) -> dict[str, str]:
        return {}

    def _read_enqueued_time(self) -> datetime | None:
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"QueueMessage(id={self.id!r}, queue={self.queue!r}, {len(self.body)} bytes)"
