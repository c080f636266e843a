"""Queue messages on Lambda: SQS batches and SNS notifications as neutral `QueueMessage` values.

SQS (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): the answer is
``{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}`` naming exactly the records whose
handler raised or that could not be read; Lambda deletes the others
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html, with
``ReportBatchItemFailures`` on the event source mapping, which the builder sets). A record without
a usable ``messageId`` cannot be named, so the whole invocation fails and every record comes back.

FIFO queues keep order within a message group only. After a message of group G fails, every later
message of G in the batch is reported failed without running, so G is retried in order; other
groups carry on. (AWS's general advice is to stop the whole batch at the first failure; failing
only the group keeps the same ordering guarantee without holding back unrelated groups.) If the
group of a failed FIFO record cannot be read, every later record is reported failed.

`QueueMessage` fields: ``attributes`` are the message attributes (what the sender set; the SQS
system attributes are in ``raw``): string and number values as sent, binary values as the base64
text SQS delivers. They are read when the handler first asks for them; a map that cannot be read
raises `EventError` then, and the record is reported failed like any other raise.
``delivery_count`` is ``ApproximateReceiveCount``, ``enqueued_time`` ``SentTimestamp``, ``group``
``MessageGroupId``. ``queue`` is the name the app declared
(``orders`` for the SQS queue ``orders.fifo`` of ``app.queue("orders", fifo=True)``).

SNS (https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html) invokes the
function asynchronously with one record: the topic name (from ``TopicArn``) selects the subscriber
function (`app.subscribe`; else a queue function of that name), the ``Message`` is the body, and
a raise fails the invocation so Lambda retries it, then sends it to the on-failure destination.
A topic with several subscribers needs one Lambda per subscriber (``polyfn_aws.handler(app,
function=...)``, which `polyfn build` always writes): a whole-app handler refuses its messages
with `EventError` rather than run one subscriber, or all of them with a shared retry.

An SQS queue or SNS topic that no queue function is bound to may carry S3 notifications
(S3 -> SQS, S3 -> SNS, S3 -> SNS -> SQS with or without raw delivery): those go to the storage
functions of their bucket.
"""

from __future__ import annotations

import base64
from time import perf_counter

from polyfn._app import own_subscriber
from polyfn._errors import EventError
from polyfn._events import QueueMessage
from polyfn._values import epoch_millis, from_epoch_millis, optional_timestamp
from polyfn_aws import _storage
from polyfn_aws._context import to_context
from polyfn_aws._fields import all_strings, get

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime
    from typing import Any

    from polyfn._app import App, Function
    from polyfn._events import StorageEvent

SQS = "SQS"
SNS = "SNS"

# SQS FIFO queue names end in ".fifo".
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues.html
FIFO_SUFFIX = ".fifo"
# System attributes of an SQS record.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
RECEIVE_COUNT = "ApproximateReceiveCount"
SENT_TIMESTAMP = "SentTimestamp"
GROUP_ID = "MessageGroupId"
# polyfn's marker of a body sent base64 (binary, or text SQS cannot carry): `_resources` sets it,
# the readers decode the body and drop the marker, so QueueMessage.body is the bytes sent.
ENCODING_ATTRIBUTE = "polyfn-encoding"
BASE64 = "base64"


def string_attributes(attributes: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """SQS ``messageAttributes`` of an event record for `attributes`, each a String attribute.
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event
    """
    return {
        name: {
            "stringValue": value,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
        for name, value in attributes.items()
    }


def queue_name(arn: Any) -> str:
    """The queue or topic name at the end of an ARN (``arn:aws:sqs:region:account:name``)."""
    return arn.rsplit(":", 1)[-1] if type(arn) is str else ""


def queue_function(app: App, function: Function | None, name: str) -> Function | None:
    """The queue function bound to queue or topic `name` (``x.fifo`` is a FIFO ``x``)."""
    if function is not None:
        return function if function.trigger_label == "queue" else None
    fn = app.queue_function(name)
    if fn is None and name.endswith(FIFO_SUFFIX):
        fn = app.queue_function(name[: -len(FIFO_SUFFIX)])
        if fn is not None and not getattr(fn.trigger, "fifo", False):
            fn = None
    return fn


class SqsMessage(QueueMessage):
    """A `QueueMessage` read from an SQS record (its ``raw``), built with `QueueMessage`'s own
    constructor from the values `sqs_message` has checked.

    ``attributes`` and ``enqueued_time`` are read from the record when a handler first asks (the
    readers `QueueMessage` calls), so a batch pays for neither attribute maps nor clock arithmetic
    it never uses (bench/fast_paths.py times this against reading both up front). An attribute map
    that cannot be read raises `EventError` then, which fails that record. ``_index`` is the
    record's place in the batch, for the field that error names.
    """

    __slots__ = ("_index",)

    # Positional, and the parent's `__init__` called by name: a class called with keyword
    # arguments builds a dict for them on every record (bench/fast_paths.py), and `super()`
    # costs a lookup; the keywords go to `QueueMessage.__init__` as a plain call, which does not.
    def __init__(  # noqa: PLR0917 - the per-record hot path
        self,
        message_id: str,
        body: bytes,
        queue: str,
        delivery_count: int,
        group: str | None,
        record: dict[str, Any],
        index: int,
    ) -> None:
        QueueMessage.__init__(
            self,
            message_id,
            body,
            queue=queue,
            delivery_count=delivery_count,
            group=group,
            raw=record,
        )
        self._index = index

    def _read_attributes(self) -> dict[str, str]:
        extra = self.raw.get("messageAttributes")
        if not extra:
            return {}
        found = _message_attributes(extra, self._index)
        if ENCODING_ATTRIBUTE in found:  # polyfn's marker: `sqs_message` has decoded the body
            del found[ENCODING_ATTRIBUTE]
        return found

    def _read_enqueued_time(self) -> datetime | None:
        attrs = self.raw.get("attributes")
        sent = attrs.get(SENT_TIMESTAMP) if attrs else None
        # `sqs_message` has checked it: a string of digits or what `epoch_millis` reads.
        return None if sent is None else from_epoch_millis(int(sent))


def _bad(i: int, field: str, message: str) -> EventError:
    return EventError(message, field=f"Records[{i}].{field}", source=SQS)


def _message_attributes(raw: Any, i: int) -> dict[str, str]:
    """Message attribute values: string and number ones as sent, binary ones as base64 text."""
    out: dict[str, str] = {}
    try:
        for name, attr in raw.items():
            if attr["dataType"].startswith("Binary"):
                out[name] = attr["binaryValue"]
            else:
                out[name] = attr["stringValue"]
    except (KeyError, TypeError, AttributeError):
        return _checked_attributes(raw, i)
    if not all_strings(out.values()):
        return _checked_attributes(raw, i)
    return out


def _checked_attributes(raw: Any, i: int) -> dict[str, str]:
    """`_message_attributes` for attributes that failed the fast read: the error names the field."""
    if type(raw) is not dict:
        raise _bad(i, "messageAttributes", "expected an object")
    out: dict[str, str] = {}
    for name, attr in raw.items():
        if type(attr) is not dict:
            raise _bad(i, f"messageAttributes.{name}", "expected an object")
        data_type = attr.get("dataType")
        if type(data_type) is not str:
            raise _bad(i, f"messageAttributes.{name}.dataType", "expected a string")
        key = "binaryValue" if data_type.startswith("Binary") else "stringValue"
        value = attr.get(key)
        if type(value) is not str:
            raise _bad(
                i,
                f"messageAttributes.{name}.{key}",
                f"expected a string for a {data_type} attribute",
            )
        out[name] = value
    return out


def sqs_message(record: dict[str, Any], message_id: str, queue: str, i: int) -> SqsMessage:
    """The neutral message for SQS record `i` of a batch; `EventError` names what is unreadable."""
    body = record.get("body")
    if type(body) is not str:
        raise _bad(i, "body", "expected a string")
    attrs = record.get("attributes")
    if attrs is None:
        attrs = {}
    elif type(attrs) is not dict:
        raise _bad(i, "attributes", "expected an object")
    count = attrs.get(RECEIVE_COUNT, "1")
    if count == "1":  # a first delivery, the common case
        delivery_count = 1
    elif type(count) is str and count.isdigit():
        delivery_count = int(count)
    else:
        raise _bad(i, f"attributes.{RECEIVE_COUNT}", "expected a count as a string of digits")
    sent = attrs.get(SENT_TIMESTAMP)
    if sent is not None and not (type(sent) is str and len(sent) < 15 and sent.isdecimal()):
        # Not the common shape: read it now, so a record whose time cannot be read fails here.
        epoch_millis(sent, f"Records[{i}].attributes.{SENT_TIMESTAMP}", SQS)
    extra = record.get("messageAttributes")
    if type(extra) is dict and ENCODING_ATTRIBUTE in extra:
        data = _unwrap_sqs(body, extra, i)
    else:
        try:
            data = body.encode()
        except UnicodeEncodeError:
            raise _bad(i, "body", "the body is not valid Unicode text") from None
    group = attrs.get(GROUP_ID)
    return SqsMessage(
        message_id, data, queue, delivery_count, group if type(group) is str else None, record, i
    )


def _unwrap_sqs(body: str, extra: Any, i: int) -> bytes:
    """The bytes of a body polyfn sent base64 (see `polyfn_aws._resources`); the message's
    attributes leave polyfn's marker out (`SqsMessage._read_attributes`)."""
    marker = extra[ENCODING_ATTRIBUTE]
    value = marker.get("stringValue") if type(marker) is dict else None
    field = f"messageAttributes.{ENCODING_ATTRIBUTE}"
    return _decoded(body, value, lambda message: _bad(i, field, message))


def _decoded(body: str, encoding: Any, bad: Callable[[str], EventError]) -> bytes:
    """`body` decoded as polyfn's marker `encoding` says; `bad(reason)` is raised when the
    marker or the body cannot be read."""
    if encoding != BASE64:
        raise bad(f"unknown polyfn body encoding {encoding!r} (expected {BASE64!r})")
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        raise bad("the body is marked base64 but is not valid base64") from None


def _group(record: dict[str, Any]) -> str | None:
    attrs = record.get("attributes")
    group = attrs.get(GROUP_ID) if type(attrs) is dict else None
    return group if type(group) is str else None


def handle_sqs(
    app: App, function: Function | None, records: list[Any], lambda_context: Any
) -> dict[str, Any]:
    """Run one SQS batch; the answer lists every record that failed or was not run."""
    arn = records[0].get("eventSourceARN")
    for record in records:
        if type(record) is dict and record.get("eventSourceARN") != arn:
            return _by_queue(app, function, records, lambda_context)
    return _one_queue(app, function, records, lambda_context, queue_name(arn))


def _by_queue(
    app: App, function: Function | None, records: list[Any], lambda_context: Any
) -> dict[str, Any]:
    """A batch whose records come from several queues, each part dispatched by its own queue.

    An event source mapping reads one queue, so Lambda never sends such a batch; one put
    together by hand must still not hand a message to the function of another queue. A part
    that cannot be dispatched (a queue no function serves) is reported failed, record by
    record, and the other parts run.
    """
    parts: dict[str, list[Any]] = {}
    for record in records:
        arn = record.get("eventSourceARN") if type(record) is dict else None
        parts.setdefault(arn if type(arn) is str else "", []).append(record)
    failed: set[str] = set()
    for arn, part in parts.items():
        name = queue_name(arn)
        try:
            answer = _one_queue(app, function, part, lambda_context, name)
        except EventError as exc:
            ids = [r.get("messageId") if type(r) is dict else None for r in part]
            if any(type(i) is not str or not i for i in ids):
                raise
            to_context(lambda_context, "").log.error(
                "SQS records of queue %r not served: %s", name, exc
            )
            failed.update(ids)  # type: ignore[arg-type]
        else:
            failed.update(f["itemIdentifier"] for f in answer["batchItemFailures"])
    return batch_response(r["messageId"] for r in records if r["messageId"] in failed)


def _one_queue(
    app: App, function: Function | None, records: list[Any], lambda_context: Any, name: str
) -> dict[str, Any]:
    fn = queue_function(app, function, name)
    ids: list[str] = []
    groups: list[str | None] = []
    # Read and route everything before running anything: a batch that cannot be dispatched
    # fails as a whole with nothing half done.
    work: list[SqsMessage | list[tuple[Function, StorageEvent]] | EventError] = []
    queue = getattr(fn.trigger, "queue", name) if fn is not None else name
    for i, record in enumerate(records):
        message_id = record.get("messageId") if type(record) is dict else None
        if type(message_id) is not str or not message_id:
            # Without an id the record cannot be reported failed: fail the whole batch instead.
            raise _bad(i, "messageId", "expected a message id (the whole batch will be retried)")
        ids.append(message_id)
        if fn is not None:
            try:
                message = sqs_message(record, message_id, queue, i)
            except EventError as exc:
                work.append(exc)
                groups.append(_group(record))
            else:
                work.append(message)
                groups.append(message.group)
        else:
            groups.append(_group(record))
    if fn is None:
        work.extend(_storage_work(app, function, records, name))
    fifo = name.endswith(FIFO_SUFFIX) or groups.count(None) != len(groups)
    ctx = to_context(lambda_context, fn.name if fn is not None else "")
    # One Lambda invocation runs the whole batch: one closing line for it, with how many
    # messages were acknowledged and failed (docs/observability.md), not one per message.
    ctx._runtime_closes = True
    started = perf_counter()
    invoke = app.invoke
    failures: list[str] = []
    failed_groups: set[str | None] = set()
    stop_all = False
    for message_id, group, item in zip(ids, groups, work, strict=True):
        if fifo and (stop_all or group in failed_groups):
            failures.append(message_id)
            continue
        try:
            if isinstance(item, SqsMessage):
                invoke(fn, item, ctx)  # type: ignore[arg-type]
            elif isinstance(item, EventError):
                raise item
            else:
                for target, event in item:
                    invoke(target, event, ctx)
        except Exception as exc:
            if isinstance(exc, EventError):
                ctx.log.error("unreadable SQS record %s: %s", message_id, exc)
            failures.append(message_id)
            if fifo:
                # A failed record whose group is unknown holds back everything after it.
                stop_all = stop_all or group is None
                failed_groups.add(group)
    from polyfn._observe import close_batch

    close_batch(ctx, started, len(ids) - len(failures), len(failures))
    return batch_response(failures)


def batch_response(failed: Iterable[str]) -> dict[str, Any]:
    """The SQS partial-batch answer naming the records in `failed` (message ids); Lambda deletes
    the others. An empty list is the answer for a batch that fully succeeded."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}


def _unserved(
    app: App, function: Function | None, what: str, *, s3: str, field: str, source: str
) -> EventError:
    """The error for messages that neither a queue function nor a storage function takes."""
    if function is not None:
        return EventError(
            f"this Lambda serves {function.name!r} ({function.trigger_label}) of app "
            f"{app.name!r}, but {what} arrived (and it holds no {s3}); the app serves: "
            f"{app.describe()}",
            field=field,
            source=source,
        )
    return EventError(
        f"{what} arrived, but no queue function of app {app.name!r} is bound to it (and it "
        f"holds no {s3}); the app serves: {app.describe()}",
        field=field,
        source=source,
    )


def _storage_work(
    app: App, function: Function | None, records: list[Any], name: str
) -> list[SqsMessage | list[tuple[Function, StorageEvent]] | EventError]:
    """Each record of a queue no queue function is bound to, read as S3 notifications."""
    work: list[SqsMessage | list[tuple[Function, StorageEvent]] | EventError] = []
    found_s3 = False
    for i, record in enumerate(records):
        at = f"Records[{i}]"
        s3_records = _storage.parse_notification(record.get("body"))
        if s3_records is None:
            work.append(
                EventError(
                    f"queue {name!r} is bound to no queue function and this body is no S3 "
                    f"notification; the app serves: {app.describe()}",
                    field=f"{at}.body",
                    source=SQS,
                )
            )
            continue
        found_s3 = True
        try:
            # Routing errors (a bucket no function serves) propagate: the batch is not served.
            source = f"S3 notification via SQS {name!r}"
            work.append(_storage.plan(app, function, s3_records, source))
        except _storage.NotBoundError:
            raise
        except EventError as exc:
            work.append(exc)
    if not found_s3:
        raise _unserved(
            app,
            function,
            f"an SQS batch from queue {name!r}",
            s3="S3 notifications",
            field="Records[0].eventSourceARN",
            source=SQS,
        )
    return work


def _sns_subscriber(app: App, function: Function | None, topic: str, at: str) -> Function | None:
    """The subscriber of `topic` this Lambda runs, None when no function subscribes to it."""
    if function is not None:
        return own_subscriber(function, topic, field=f"{at}.Sns.TopicArn", source=SNS)
    subscribers = app.subscribers(topic)
    if len(subscribers) > 1:
        names = ", ".join(repr(f.name) for f in subscribers)
        raise EventError(
            f"SNS topic {topic!r} has {len(subscribers)} subscribers ({names}) and this Lambda "
            f"serves the whole app {app.name!r}, which would run one of them or retry all; give "
            "each subscriber its own Lambda with polyfn_aws.handler(app, function=NAME) and "
            "subscribe it (polyfn build does)",
            field=f"{at}.Sns.TopicArn",
            source=SNS,
        )
    return subscribers[0] if subscribers else None


def sns_message(record: Any, topic: str, at: str) -> QueueMessage:
    sns = get(record, "Sns", dict, SNS, at=at)
    message = get(sns, "Message", str, SNS, at=f"{at}.Sns")
    attrs: dict[str, str] = {}
    raw_attrs = sns.get("MessageAttributes")
    if raw_attrs is not None:
        if type(raw_attrs) is not dict:
            raise EventError("expected an object", field=f"{at}.Sns.MessageAttributes", source=SNS)
        for key, attr in raw_attrs.items():
            attrs[key] = get(attr, "Value", str, SNS, at=f"{at}.Sns.MessageAttributes.{key}")
    if ENCODING_ATTRIBUTE in attrs:
        field = f"{at}.Sns.MessageAttributes.{ENCODING_ATTRIBUTE}"
        body = _decoded(
            message,
            attrs.pop(ENCODING_ATTRIBUTE),
            lambda reason: EventError(reason, field=field, source=SNS),
        )
    else:
        try:
            body = message.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON's "\ud800" escape reads as one
            raise EventError(
                "the message is not valid Unicode text", field=f"{at}.Sns.Message", source=SNS
            ) from None
    return QueueMessage(
        get(sns, "MessageId", str, SNS, at=f"{at}.Sns"),
        body,
        queue=topic,
        attributes=attrs,
        enqueued_time=optional_timestamp(sns.get("Timestamp"), f"{at}.Sns.Timestamp", SNS),
        raw=record,
    )


def handle_sns(
    app: App, function: Function | None, records: list[Any], lambda_context: Any
) -> None:
    """Run SNS records; a raise fails the invocation (Lambda retries the async event)."""
    for i, record in enumerate(records):
        at = f"Records[{i}]"
        topic = queue_name(get(record, "Sns.TopicArn", str, SNS, at=at))
        fn = _sns_subscriber(app, function, topic, at) or queue_function(app, function, topic)
        if fn is not None:
            message = sns_message(record, getattr(fn.trigger, "queue", topic), at)
            app.invoke(fn, message, to_context(lambda_context, fn.name))
            continue
        s3_records = _storage.parse_notification(record["Sns"].get("Message"))
        if s3_records is None:
            raise _unserved(
                app,
                function,
                f"a message from SNS topic {topic!r}",
                s3="an S3 notification",
                field=f"{at}.Sns.TopicArn",
                source=SNS,
            )
        _storage.run(
            app,
            _storage.plan(app, function, s3_records, f"S3 notification via SNS {topic!r}"),
            lambda_context,
        )
