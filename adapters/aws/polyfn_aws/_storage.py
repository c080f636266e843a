"""Storage events on Lambda: S3 notifications (direct, through SNS and/or SQS) and S3 events on
EventBridge, as neutral `StorageEvent` values.

Object keys: in a notification the key is URL-encoded the way HTML forms are ("red flower.jpg"
arrives as ``red+flower.jpg``, a plus as ``%2B``), so it is decoded with `unquote_plus`.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
The EventBridge event structure documents ``detail.object.key`` as the key with no encoding
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), and events seen in the
field agree (a key ``a+b`` arrives as ``a+b``), so it is taken verbatim: decoding it would turn a
real ``+`` into a space and a real ``%41`` into ``A``. A key that arrived percent-encoded anyway
reaches the handler as it arrived, never half-decoded.

S3 sends ``s3:TestEvent`` when a notification is configured; it is skipped.
"""

from __future__ import annotations

import json

from polyfn._errors import EventError
from polyfn._events import StorageEvent
from polyfn._values import timestamp
from polyfn_aws._context import to_context
from polyfn_aws._fields import get

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from polyfn._app import App, Function

NOTIFICATION = "S3 event notification"
EVENTBRIDGE = "S3 event on EventBridge"

# Notification eventName (before the ':') -> neutral kind; None: no neutral kind, skipped.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
# A lifecycle transition or an Intelligent-Tiering move to an archive tier is "archived"; tag and
# ACL changes are "metadata_updated"; restores (a temporary copy out of an archive, which leaves
# the object archived), replication events and object annotations (named payloads kept beside
# an object, https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAnnotation.html) have
# no neutral meaning: the builder subscribes to none of them, and one configured by hand is
# skipped rather than failed.
NOTIFICATION_KINDS: dict[str, str | None] = {
    "ObjectCreated": "created",
    "ObjectRemoved": "deleted",
    "LifecycleExpiration": "deleted",
    "LifecycleTransition": "archived",
    "IntelligentTiering": "archived",
    "ObjectTagging": "metadata_updated",
    "ObjectAcl": "metadata_updated",
    "ObjectRestore": None,
    "Replication": None,
    "ReducedRedundancyLostObject": None,
    "ObjectAnnotation": None,
}

# EventBridge detail-type -> neutral kind, the same mapping as above.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html
EVENTBRIDGE_KINDS: dict[str, str | None] = {
    "Object Created": "created",
    "Object Deleted": "deleted",
    "Object Storage Class Changed": "archived",
    "Object Access Tier Changed": "archived",
    "Object Tags Added": "metadata_updated",
    "Object Tags Deleted": "metadata_updated",
    "Object ACL Updated": "metadata_updated",
    "Object Restore Initiated": None,
    "Object Restore Completed": None,
    "Object Restore Expired": None,
}

TEST_EVENT = "s3:TestEvent"
# SNS wraps what it delivers in this envelope (unless raw delivery is on).
# https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
SNS_NOTIFICATION = "Notification"


class NotBoundError(EventError):
    """An event for a bucket the app (or this Lambda's function) does not serve."""


def _kind(event_name: str, field: str) -> str | None:
    family = event_name.removeprefix("s3:").split(":", 1)[0]
    if family not in NOTIFICATION_KINDS:
        raise EventError(
            f"unknown S3 event {event_name!r} (known: {', '.join(NOTIFICATION_KINDS)})",
            field=field,
            source=NOTIFICATION,
        )
    return NOTIFICATION_KINDS[family]


def from_record(record: Any, at: str = "Records[0]") -> StorageEvent | None:
    """The neutral event for one notification record (None: a kind polyfn does not serve)."""
    if type(record) is not dict:
        raise EventError("expected an object", field=at, source=NOTIFICATION)
    kind = _kind(get(record, "eventName", str, NOTIFICATION, at=at), f"{at}.eventName")
    if kind is None:
        return None
    obj = get(record, "s3.object", dict, NOTIFICATION, at=at)
    from urllib.parse import unquote_plus

    where = f"{at}.s3.object"
    return StorageEvent(
        kind,
        get(record, "s3.bucket.name", str, NOTIFICATION, at=at),
        unquote_plus(get(obj, "key", str, NOTIFICATION, at=where)),
        time=timestamp(record.get("eventTime"), f"{at}.eventTime", NOTIFICATION),
        size=get(obj, "size", int, NOTIFICATION, required=False, at=where),
        etag=get(obj, "eTag", str, NOTIFICATION, required=False, at=where),
        version=get(obj, "versionId", str, NOTIFICATION, required=False, at=where),
        raw=record,
    )


def from_eventbridge(event: dict[str, Any]) -> StorageEvent | None:
    detail_type = get(event, "detail-type", str, EVENTBRIDGE)
    if detail_type not in EVENTBRIDGE_KINDS:
        raise EventError(
            f"unknown S3 event {detail_type!r} (known: {', '.join(EVENTBRIDGE_KINDS)})",
            field="detail-type",
            source=EVENTBRIDGE,
        )
    kind = EVENTBRIDGE_KINDS[detail_type]
    if kind is None:
        return None
    return StorageEvent(
        kind,
        get(event, "detail.bucket.name", str, EVENTBRIDGE),
        get(event, "detail.object.key", str, EVENTBRIDGE),
        time=timestamp(event.get("time"), "time", EVENTBRIDGE),
        size=get(event, "detail.object.size", int, EVENTBRIDGE, required=False),
        etag=get(event, "detail.object.etag", str, EVENTBRIDGE, required=False),
        version=get(event, "detail.object.version-id", str, EVENTBRIDGE, required=False),
        raw=event,
    )


def parse_notification(text: Any) -> list[Any] | None:
    """The S3 records inside a message body (an S3 notification, or an SNS envelope around one).

    ``[]`` for an S3 test event; None when the text is no S3 notification at all.
    """
    if type(text) is not str or not text.startswith("{"):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if type(doc) is dict and doc.get("Type") == SNS_NOTIFICATION and "TopicArn" in doc:
        return parse_notification(doc.get("Message"))
    if type(doc) is not dict:
        return None
    if doc.get("Event") == TEST_EVENT:
        return []
    records = doc.get("Records")
    if (
        type(records) is list
        and records
        and all(type(r) is dict and r.get("eventSource") == "aws:s3" for r in records)
    ):
        return records
    return None


def _names(bucket: str) -> tuple[str, ...]:
    """The names bucket `bucket` has in S3: its own, or the stage's name the builder set in
    ``POLYFN_BUCKET_<NAME>`` (polyfn_aws._iam.staged)."""
    import os

    from polyfn._resources import env_name

    deployed = os.environ.get(env_name("bucket", bucket))
    return (bucket, deployed) if deployed else (bucket,)


def route(app: App, function: Function | None, event: StorageEvent, source: str) -> list[Function]:
    """The functions `event` triggers; `NotBoundError` if no function is bound to its bucket.

    A bucket that is bound, but not for this kind or key (outside a prefix), triggers nothing.
    """
    if function is not None:
        trigger: Any = function.trigger
        if function.trigger_label != "storage" or event.bucket not in _names(trigger.bucket):
            raise NotBoundError(
                f"this Lambda serves {function.name!r} ({function.trigger_label}) of app "
                f"{app.name!r}, but a {event.kind} event for s3://{event.bucket}/{event.key} "
                "arrived; "
                f"the app serves: {app.describe()}",
                source=source,
            )
        return [function] if trigger.accepts(trigger.bucket, event.kind, event.key) else []
    if not any(
        getattr(f.trigger, "bucket", None) == event.bucket for f in app.functions_of("storage")
    ):
        raise NotBoundError(
            f"a {event.kind} event for s3://{event.bucket}/{event.key} arrived, but no function "
            f"of app {app.name!r} is bound to bucket {event.bucket!r}; "
            f"the app serves: {app.describe()}",
            source=source,
        )
    return app.storage_functions(event.bucket, event.kind, event.key)


def plan(
    app: App, function: Function | None, records: list[Any], source: str = NOTIFICATION
) -> list[tuple[Function, StorageEvent]]:
    """Every (function, event) pair that `records` trigger, read and routed before any runs."""
    work: list[tuple[Function, StorageEvent]] = []
    for i, record in enumerate(records):
        event = from_record(record, f"Records[{i}]")
        if event is not None:
            work.extend((fn, event) for fn in route(app, function, event, source))
    return work


def run(app: App, work: list[tuple[Function, StorageEvent]], lambda_context: Any) -> None:
    """Call each handler in turn; the first raise propagates (the invocation fails)."""
    for fn, event in work:
        app.invoke(fn, event, to_context(lambda_context, fn.name))


def handle_records(
    app: App, function: Function | None, records: list[Any], lambda_context: Any
) -> None:
    run(app, plan(app, function, records), lambda_context)


def handle_eventbridge(
    app: App, function: Function | None, event: dict[str, Any], lambda_context: Any
) -> None:
    storage_event = from_eventbridge(event)
    if storage_event is not None:
        targets = route(app, function, storage_event, EVENTBRIDGE)
        run(app, [(fn, storage_event) for fn in targets], lambda_context)
