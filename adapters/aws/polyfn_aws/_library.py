"""Library use without `App`: a Lambda handler of your own reads its event into polyfn's neutral
values and writes neutral results back as the answer Lambda expects.

The functions are the ones `polyfn_aws.handler` itself runs on each event, so a function moved
from one style to the other sees the same values. The same names exist in polyfn_azure and
polyfn_gcp (docs/library.md):

- `http_request(event)` -> `HttpRequest` (API Gateway REST / HTTP API, function URL, ALB), and
  `http_response(response, event)` -> the answer that source expects (the event says which).
- `queue_messages(event)` -> `list[QueueMessage]` (an SQS batch or an SNS notification), and
  `batch_response(failed_ids)` -> ``{"batchItemFailures": [...]}`` (SQS with
  ``ReportBatchItemFailures`` on the event source mapping).
- `storage_event(event)` -> `StorageEvent` (an S3 notification, direct or through SQS or SNS, or
  an S3 event on EventBridge), None for an event with no neutral meaning (a restore, a
  replication event, ``s3:TestEvent``).
- `timer_event(event)` -> `TimerEvent` (an EventBridge scheduled event, or EventBridge Scheduler
  with polyfn's Input).

An event they cannot read is an `EventError` that names the field and the source expected.
"""

from __future__ import annotations

from polyfn._errors import EventError
from polyfn_aws._fields import get
from polyfn_aws._handler import SCHEDULE_EVENT, SCHEDULER_EVENT, SCHEDULER_KEY, SNS_SOURCE
from polyfn_aws._handler import SQS_SOURCE as SQS_EVENT_SOURCE
from polyfn_aws._http import answer, http_kind, to_request
from polyfn_aws._queue import SNS, SQS, batch_response, queue_name, sns_message, sqs_message
from polyfn_aws._storage import (
    EVENTBRIDGE,
    NOTIFICATION,
    TEST_EVENT,
    from_eventbridge,
    from_record,
    parse_notification,
)
from polyfn_aws._timer import SCHEDULED, rule_of, scheduled_tick, scheduler_tick

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from polyfn._events import QueueMessage, StorageEvent, TimerEvent
    from polyfn._http import HttpRequest, HttpResponse
    from polyfn._schedule import Schedule

HTTP_SOURCES = "API Gateway (REST or HTTP API), a Lambda function URL or an ALB"
STORAGE_SOURCES = f"{NOTIFICATION} (direct, through SQS or SNS) or {EVENTBRIDGE}"
QUEUE_SOURCES = "SQS batch or SNS notification"

__all__ = [
    "batch_response",
    "http_request",
    "http_response",
    "queue_messages",
    "storage_event",
    "timer_event",
]


def _object(event: Any, source: str) -> dict[str, Any]:
    if type(event) is not dict:
        raise EventError(f"expected a JSON object, got {type(event).__name__}", source=source)
    return event


def _http_source(event: Any) -> str:
    kind = http_kind(event, _object(event, HTTP_SOURCES).get("requestContext"))
    if kind is None:
        raise EventError(
            "not an HTTP event (expected requestContext with http, elb, or httpMethod)",
            field="requestContext",
            source=HTTP_SOURCES,
        )
    return kind


def http_request(event: dict[str, Any]) -> HttpRequest:
    """The neutral request of an HTTP event; the source (REST, HTTP API 1.0/2.0, function URL,
    ALB) is read from the event itself."""
    return to_request(event, _http_source(event))


def http_response(response: HttpResponse, event: dict[str, Any] | HttpRequest) -> dict[str, Any]:
    """What the handler returns to Lambda for `response`, in the shape the source of `event`
    (the HTTP event, or the `HttpRequest` read from it) expects. A response larger than the
    source carries back becomes polyfn's 500, logged on the ``polyfn_aws`` logger."""
    import logging
    from types import SimpleNamespace

    native = event if type(event) is dict else getattr(event, "raw", None)
    kind = _http_source(native)
    request_id = native["requestContext"].get("requestId")  # type: ignore[index]
    return answer(
        response,
        kind,
        SimpleNamespace(log=logging.getLogger("polyfn_aws")),
        request_id if type(request_id) is str else "",
        None if type(event) is dict else event,  # type: ignore[arg-type]
    )


def _records(event: Any, source: str) -> list[Any]:
    records = _object(event, source).get("Records")
    if type(records) is not list or not records or type(records[0]) is not dict:
        raise EventError("expected a non-empty array of records", field="Records", source=source)
    return records


def queue_messages(event: dict[str, Any]) -> list[QueueMessage]:
    """The messages of an SQS batch or an SNS notification, in order. ``queue`` is the queue's
    or topic's name (the end of its ARN); a record that cannot be read is an `EventError`
    naming it (``Records[i]...``)."""
    records = _records(event, QUEUE_SOURCES)
    first = records[0]
    if first.get("eventSource") == SQS_EVENT_SOURCE:
        messages: list[QueueMessage] = []
        for i, record in enumerate(records):
            message_id = record.get("messageId") if type(record) is dict else None
            if type(message_id) is not str or not message_id:
                raise EventError(
                    "expected a message id", field=f"Records[{i}].messageId", source=SQS
                )
            queue = queue_name(record.get("eventSourceARN"))
            messages.append(sqs_message(record, message_id, queue, i))
        return messages
    if first.get("EventSource") == SNS_SOURCE:
        out = []
        for i, record in enumerate(records):
            at = f"Records[{i}]"
            topic = queue_name(get(record, "Sns.TopicArn", str, SNS, at=at))
            out.append(sns_message(record, topic, at))
        return out
    raise EventError(
        f"records from {first.get('eventSource') or first.get('EventSource')!r} are no "
        f"messages (expected {SQS_EVENT_SOURCE} or {SNS_SOURCE})",
        field="Records[0].eventSource",
        source=QUEUE_SOURCES,
    )


def _one_record(records: list[Any], source: str) -> Any:
    if len(records) != 1:
        raise EventError(
            f"the event holds {len(records)} S3 records; read each with storage_event(record)",
            field="Records",
            source=source,
        )
    return records[0]


def storage_event(event: dict[str, Any]) -> StorageEvent | None:
    """The neutral event of an S3 notification (an event with one record, or the record
    itself), of one delivered through SQS or SNS, or of an S3 event on EventBridge; None when
    the event has no neutral kind (restores, replication, ``s3:TestEvent``)."""
    event = _object(event, STORAGE_SOURCES)
    if "detail-type" in event:
        return from_eventbridge(event)
    if event.get("Event") == TEST_EVENT:
        return None
    if "s3" in event:
        return from_record(event)
    record = _one_record(_records(event, STORAGE_SOURCES), STORAGE_SOURCES)
    wrapped = None
    if record.get("eventSource") == SQS_EVENT_SOURCE:
        wrapped = parse_notification(record.get("body"))
    elif record.get("EventSource") == SNS_SOURCE and type(record.get("Sns")) is dict:
        wrapped = parse_notification(record["Sns"].get("Message"))
    else:
        return from_record(record)
    if wrapped is None:
        raise EventError(
            "the message holds no S3 notification", field="Records[0]", source=STORAGE_SOURCES
        )
    return from_record(_one_record(wrapped, STORAGE_SOURCES)) if wrapped else None


def timer_event(
    event: dict[str, Any], *, schedule: Schedule | None = None, now: datetime | None = None
) -> TimerEvent:
    """The tick of an EventBridge scheduled event (``name`` is the rule's name) or of an
    EventBridge Scheduler invocation with polyfn's Input (``name`` is the function's).
    `schedule` is the `Schedule` to report, when the caller knows it; the tick is past due when
    it arrives more than two minutes after its time (`now`, default the clock)."""
    event = _object(event, SCHEDULED)
    if SCHEDULER_KEY in event and "detail-type" not in event:
        target = event[SCHEDULER_KEY]
        name = target.get("function") if type(target) is dict else None
        return scheduler_tick(event, name if type(name) is str else "", schedule, now)
    pair = (event.get("source"), event.get("detail-type"))
    if pair not in (SCHEDULE_EVENT, SCHEDULER_EVENT):
        raise EventError(
            f"source {pair[0]!r}, detail-type {pair[1]!r} is no scheduled event",
            field="detail-type",
            source=SCHEDULED,
        )
    return scheduled_tick(event, rule_of(event) or "", schedule, now)
