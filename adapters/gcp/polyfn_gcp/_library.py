"""Library use without `App`: a functions-framework function of your own reads its request or
CloudEvent into polyfn's neutral values and writes neutral results back.

The functions are the ones `polyfn_gcp.http` and `polyfn_gcp.cloud_event` themselves run, so a
function moved from one style to the other sees the same values. The same names exist in
polyfn_aws and polyfn_azure (docs/library.md):

- `http_request(request)` -> `HttpRequest` (a `flask.Request`), and `http_response(response)`
  -> `flask.Response`.
- `queue_messages(event, queue="")` -> `list[QueueMessage]` (a Pub/Sub messagePublished
  CloudEvent, whose source names the topic, or a push subscription's JSON body, which names
  none: `queue` then says). `batch_response(failed_ids)` returns None when nothing failed and
  otherwise raises `MessagesFailedError`: a push delivery carries one message, and only a non-2xx
  answer (functions-framework's 500 for a raise) makes Pub/Sub redeliver it.
- `storage_event(event)` -> `StorageEvent` (a Cloud Storage object CloudEvent).
- `timer_event(native)` -> `TimerEvent` (a Cloud Scheduler HTTP target request, ``name`` its job
  id; or a Cloud Scheduler Pub/Sub target CloudEvent with polyfn's attribute).

An input they cannot read is an `EventError` that names the field and the source expected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn import EventError
from polyfn._errors import fail_messages
from polyfn_gcp._cloud_event import SOURCE, _parsed, _text
from polyfn_gcp._http import to_flask_response, to_request
from polyfn_gcp._names import SCHEDULE_ATTRIBUTE
from polyfn_gcp._pubsub import (
    CLOUDEVENT_SOURCE,
    PUBSUB_TYPE,
    PUSH_SOURCE,
    read_message,
    topic_from_source,
)
from polyfn_gcp._storage import storage_event as read_storage_event
from polyfn_gcp._timer import (
    HTTP_SOURCE,
    JOB_NAME_HEADER,
    header_tick,
    job_id,
    message_tick,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    import flask

    from polyfn import HttpRequest, HttpResponse, QueueMessage, Schedule, StorageEvent, TimerEvent

__all__ = [
    "batch_response",
    "http_request",
    "http_response",
    "queue_messages",
    "storage_event",
    "timer_event",
]

# A push subscription redelivers a message until an endpoint answers 2xx (with backoff, up to the
# subscription's retention or its dead-letter policy's max delivery attempts).
# https://cloud.google.com/pubsub/docs/push#receive_push
RETRY = (
    "functions-framework answers 500 and Pub/Sub redelivers the message (then dead-letters it "
    "when the subscription has a dead-letter policy)"
)


def http_request(request: flask.Request) -> HttpRequest:
    """The neutral request of an HTTP function's `flask.Request`: nothing dropped."""
    return to_request(request)


def http_response(response: HttpResponse) -> flask.Response:
    """The `flask.Response` carrying `response` whole (every header value and Set-Cookie)."""
    return to_flask_response(response)


def _cloud_event(event: Any) -> tuple[dict[str, Any], Any]:
    """A CloudEvent's attributes and parsed data; EventError for anything else."""
    get_attributes = getattr(event, "get_attributes", None)
    if get_attributes is None:
        raise EventError(
            f"expected a CloudEvent (functions-framework --signature-type cloudevent), got "
            f"{type(event).__name__}",
            source=SOURCE,
        )
    return dict(get_attributes()), _parsed(event.get_data())


def queue_messages(event: Any, queue: str = "") -> list[QueueMessage]:
    """The message of a Pub/Sub messagePublished CloudEvent, or of a push subscription's
    parsed JSON body (a dict), as a one-message list; ``queue`` is the topic the CloudEvent's
    source names, else `queue`."""
    if isinstance(event, dict):
        return [read_message(event, queue=queue, source=PUSH_SOURCE)]
    attributes, data = _cloud_event(event)
    if attributes.get("type") != PUBSUB_TYPE:
        raise EventError(
            f"CloudEvent type {attributes.get('type')!r} is no Pub/Sub message "
            f"(expected {PUBSUB_TYPE})",
            field="type",
            source=CLOUDEVENT_SOURCE,
        )
    topic = topic_from_source(attributes.get("source")) or queue
    message = read_message(
        data,
        queue=topic,
        source=CLOUDEVENT_SOURCE,
        prefix="data.",
        fallback_id=_text(attributes.get("id")),
    )
    message.raw = event
    return [message]


def batch_response(failed: Iterable[str]) -> None:
    """None when `failed` is empty; otherwise raises `MessagesFailedError`, which fails the
    delivery so Pub/Sub redelivers it (a push delivery is one message: no partial answer)."""
    fail_messages(failed, RETRY)


def storage_event(event: Any) -> StorageEvent:
    """The neutral event of a Cloud Storage object CloudEvent (Eventarc's, or a legacy event
    functions-framework converted)."""
    attributes, data = _cloud_event(event)
    return read_storage_event(attributes, data, raw=event)


def timer_event(
    native: Any, *, schedule: Schedule | None = None, now: datetime | None = None
) -> TimerEvent:
    """The tick of a Cloud Scheduler HTTP target request (`flask.Request`; ``name`` is the job
    id) or of a Cloud Scheduler Pub/Sub target CloudEvent (``name`` is the function polyfn's
    attribute names). `schedule` is the `Schedule` to report, when the caller knows it."""
    if hasattr(native, "get_attributes"):
        messages = queue_messages(native)
        name = messages[0].attributes.get(SCHEDULE_ATTRIBUTE, "")
        return message_tick(messages[0], name, schedule, now)
    request = to_request(native)
    job = request.headers.get(JOB_NAME_HEADER)
    if not job:
        raise EventError(
            f"not a Cloud Scheduler request: header {JOB_NAME_HEADER} is missing",
            field=JOB_NAME_HEADER,
            source=HTTP_SOURCE,
        )
    return header_tick(request.headers, job_id(job), schedule, now, raw=native)
