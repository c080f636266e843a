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
text SQS delivers. ``delivery_count`` is ``ApproximateReceiveCount``, ``enqueued_time``
``SentTimestamp``, ``group`` ``MessageGroupId``. ``queue`` is the name the app declared
(``orders`` for the SQS queue ``orders.fifo`` of ``app.queue("orders", fifo=True)``).

SNS (https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html) invokes the
function asynchronously with one record: the topic name (from ``TopicArn``) selects the queue
function, the ``Message`` is the body, and a raise fails the invocation so Lambda retries it.

An SQS queue or SNS topic that no queue function is bound to may carry S3 notifications
(S3 -> SQS, S3 -> SNS, S3 -> SNS -> SQS with or without raw delivery): those go to the storage
functions of their bucket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._errors import EventError
from polyfn._events import QueueMessage
from polyfn_aws import _storage
from polyfn_aws._context import to_context
from polyfn_aws._fields import epoch_millis, get, iso_time

if TYPE_CHECKING:
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


def queue_name(arn: Any) -> str:
    """The queue or topic name at the end of an ARN (``arn:aws:sqs:region:account:name``)."""
    return arn.rsplit(":", 1)[-1] if type(arn) is str else ""


def queue_function(app: App, function: Function | None, name: str) -> Function | None:
    """The queue function bound to queue or topic `name` (``x.fifo`` is a FIFO ``x``)."""
    if function is not None:
        return function if function.kind == "queue" else None
    fn = app.queue_function(name)
    if fn is None and name.endswith(FIFO_SUFFIX):
        fn = app.queue_function(name[: -len(FIFO_SUFFIX)])
        if fn is not None and not getattr(fn.trigger, "fifo", False):
            fn = None
    return fn


def _message_attributes(raw: Any, at: str) -> dict[str, str]:
    if raw is None:
        return {}
    if type(raw) is not dict:
        raise EventError("expected an object", field=at, source=SQS)
    out: dict[str, str] = {}
    for name, attr in raw.items():
        if type(attr) is not dict:
            raise EventError("expected an object", field=f"{at}.{name}", source=SQS)
        data_type = attr.get("dataType")
        key = (
            "binaryValue"
            if type(data_type) is str and data_type.startswith("Binary")
            else ("stringValue")
        )
        value = attr.get(key)
        if type(value) is not str:
            raise EventError(
                f"expected a string for a {data_type} attribute",
                field=f"{at}.{name}.{key}",
                source=SQS,
            )
        out[name] = value
    return out


def sqs_message(record: dict[str, Any], queue: str, at: str) -> QueueMessage:
    """The neutral message for one SQS record; `EventError` names what is unreadable."""
    message_id = record["messageId"]
    body = record.get("body")
    if type(body) is not str:
        raise EventError("expected a string", field=f"{at}.body", source=SQS)
    attrs = record.get("attributes")
    if attrs is None:
        attrs = {}
    elif type(attrs) is not dict:
        raise EventError("expected an object", field=f"{at}.attributes", source=SQS)
    count = attrs.get(RECEIVE_COUNT)
    if count is None:
        delivery_count = 1
    elif type(count) is str and count.isdigit():
        delivery_count = int(count)
    else:
        raise EventError(
            "expected a count as a string of digits",
            field=f"{at}.attributes.{RECEIVE_COUNT}",
            source=SQS,
        )
    sent = attrs.get(SENT_TIMESTAMP)
    group = attrs.get(GROUP_ID)
    return QueueMessage(
        message_id,
        body.encode("utf-8"),
        queue=queue,
        attributes=_message_attributes(record.get("messageAttributes"), f"{at}.messageAttributes"),
        delivery_count=delivery_count,
        enqueued_time=None
        if sent is None
        else epoch_millis(sent, f"{at}.attributes.{SENT_TIMESTAMP}", SQS),
        group=group if type(group) is str else None,
        raw=record,
    )


def _message_id(record: Any, at: str) -> str:
    message_id = record.get("messageId") if type(record) is dict else None
    if type(message_id) is not str or not message_id:
        # Without an id the record cannot be reported failed: fail the whole batch instead.
        raise EventError(
            "expected a message id (every record of the batch will be retried)",
            field=f"{at}.messageId",
            source=SQS,
        )
    return message_id


def _group(record: Any) -> str | None:
    attrs = record.get("attributes") if type(record) is dict else None
    group = attrs.get(GROUP_ID) if type(attrs) is dict else None
    return group if type(group) is str else None


def handle_sqs(
    app: App, function: Function | None, records: list[Any], lambda_context: Any
) -> dict[str, Any]:
    """Run one SQS batch; the answer lists every record that failed or was not run."""
    ids = [_message_id(record, f"Records[{i}]") for i, record in enumerate(records)]
    name = queue_name(records[0].get("eventSourceARN"))
    fn = queue_function(app, function, name)
    fifo = name.endswith(FIFO_SUFFIX) or any(_group(r) is not None for r in records)
    # Read and route everything before running anything: a batch that cannot be dispatched
    # fails as a whole with nothing half done.
    work: list[QueueMessage | list[tuple[Function, StorageEvent]] | EventError]
    if fn is not None:
        queue = getattr(fn.trigger, "queue", name)
        work = []
        for i, record in enumerate(records):
            try:
                work.append(sqs_message(record, queue, f"Records[{i}]"))
            except EventError as exc:
                work.append(exc)
    else:
        work = _storage_work(app, function, records, name)
    ctx = to_context(lambda_context, fn.name if fn is not None else "")
    failures: list[str] = []
    failed_groups: set[str] = set()
    stop_all = False
    for message_id, record, item in zip(ids, records, work, strict=True):
        group = _group(record) if fifo else None
        if stop_all or (group is not None and group in failed_groups):
            failures.append(message_id)
            continue
        try:
            if isinstance(item, EventError):
                raise item
            if isinstance(item, QueueMessage):
                app.invoke(fn, item, ctx)  # type: ignore[arg-type]
            else:
                for target, event in item:
                    app.invoke(target, event, ctx)
        except Exception as exc:
            if isinstance(exc, EventError):
                ctx.log.error("unreadable SQS record %s: %s", message_id, exc)
            failures.append(message_id)
            if fifo:
                if group is None:
                    stop_all = True
                else:
                    failed_groups.add(group)
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failures]}


def _storage_work(
    app: App, function: Function | None, records: list[Any], name: str
) -> list[QueueMessage | list[tuple[Function, StorageEvent]] | EventError]:
    """Each record of a queue no queue function is bound to, read as S3 notifications."""
    work: list[QueueMessage | list[tuple[Function, StorageEvent]] | EventError] = []
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
        raise EventError(
            f"an SQS batch from queue {name!r} arrived, but no queue function of app "
            f"{app.name!r} is bound to it (and it holds no S3 notifications); "
            f"the app serves: {app.describe()}",
            field="Records[0].eventSourceARN",
            source=SQS,
        )
    return work


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
    timestamp = sns.get("Timestamp")
    return QueueMessage(
        get(sns, "MessageId", str, SNS, at=f"{at}.Sns"),
        message.encode("utf-8"),
        queue=topic,
        attributes=attrs,
        enqueued_time=None
        if timestamp is None
        else iso_time(timestamp, f"{at}.Sns.Timestamp", SNS),
        raw=record,
    )


def handle_sns(
    app: App, function: Function | None, records: list[Any], lambda_context: Any
) -> None:
    """Run SNS records; a raise fails the invocation (Lambda retries the async event)."""
    for i, record in enumerate(records):
        at = f"Records[{i}]"
        topic = queue_name(get(record, "Sns.TopicArn", str, SNS, at=at))
        fn = queue_function(app, function, topic)
        if fn is not None:
            message = sns_message(record, getattr(fn.trigger, "queue", topic), at)
            app.invoke(fn, message, to_context(lambda_context, fn.name))
            continue
        s3_records = _storage.parse_notification(record["Sns"].get("Message"))
        if s3_records is None:
            raise EventError(
                f"a message from SNS topic {topic!r} arrived, but no queue function of app "
                f"{app.name!r} is bound to it (and it is no S3 notification); "
                f"the app serves: {app.describe()}",
                field=f"{at}.Sns.TopicArn",
                source=SNS,
            )
        _storage.run(
            app,
            _storage.plan(app, function, s3_records, f"S3 notification via SNS {topic!r}"),
            lambda_context,
        )
