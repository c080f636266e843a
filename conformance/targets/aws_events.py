"""AWS targets for schedule, storage, queue and subscription cases: EventBridge, S3 (direct, via
SQS, SNS, SNS then SQS, EventBridge), SQS standard and FIFO, SNS topic subscriptions.

Each driver renders the neutral case into the event Lambda would get, written from the AWS docs
cited beside each renderer (no adapter code), validates it with aws-lambda-powertools' parser
models, calls ``polyfn_aws.handler(app)`` with awslambdaric's ``LambdaContext``, and reads back
what the handlers saw and which messages Lambda would hand back to the queue.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from conformance._spec import Outcome, Skip
from conformance.cases.subscribe import copy_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.cases.queue import Message, QueueCase
    from conformance.cases.schedule import ScheduleCase
    from conformance.cases.storage import StorageCase
    from conformance.cases.subscribe import SubscribeCase
    from polyfn import App

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:conformance"
# The message attribute with which polyfn's AWS resources backend marks a body it sent base64
# (SNS and SQS carry text only): a wire convention of polyfn's, in docs/resources-aws.md.
SNS_ENCODING_ATTRIBUTE = "polyfn-encoding"
# SQS message bodies may hold only these characters (no binary):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
_SQS_ALLOWED = (
    (0x9, 0x9),
    (0xA, 0xA),
    (0xD, 0xD),
    (0x20, 0xD7FF),
    (0xE000, 0xFFFD),
    (0x10000, 0x10FFFF),
)
# S3 uses multipart upload above 5 GiB (single PUT limit), and names the event after it:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
_SINGLE_PUT_LIMIT = 5 * 1024**3

_handlers: dict[tuple[int, str | None], tuple[App, Callable[[dict[str, Any], Any], Any]]] = {}


def _handler(app: App, function: str | None = None) -> Callable[[dict[str, Any], Any], Any]:
    """The adapter's public entry for `app` (or its Lambda of `function`), built once."""
    cached = _handlers.get((id(app), function))
    if cached is None or cached[0] is not app:
        import polyfn_aws

        cached = (app, polyfn_aws.handler(app, function=function))
        _handlers[(id(app), function)] = cached
    return cached[1]


def _context() -> Any:
    from awslambdaric.lambda_context import LambdaContext

    deadline = int(time.time() * 1000) + 30_000
    return LambdaContext(str(uuid.uuid4()), None, None, deadline, FUNCTION_ARN)


def _invoke(
    app: App, event: dict[str, Any], function: str | None = None
) -> tuple[Any, BaseException | None]:
    """Call the adapter (the Lambda of `function`, else the whole app's); (its result, the
    exception it raised or None)."""
    error: BaseException | None = None
    result: Any = None
    try:
        result = _handler(app, function)(json.loads(json.dumps(event)), _context())
    except Exception as exc:  # the invocation failed: Lambda retries the whole event
        error = exc
    return result, error


def _zulu(t: datetime, ms: bool = True) -> str:
    text = t.astimezone(UTC).isoformat(timespec="milliseconds" if ms else "seconds")
    return text.replace("+00:00", "Z")


def _epoch_ms(t: datetime) -> str:
    return str(int(t.timestamp() * 1000))


def _redelivered(ids: list[str], result: Any, error: BaseException | None) -> list[str]:
    """Which messages of an SQS batch Lambda returns to the queue, from the handler's answer.

    A raise fails the whole batch; otherwise exactly the `batchItemFailures` come back, and an
    answer naming a message that is not in the batch (or an empty id) fails the whole batch:
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    if error is not None:
        return list(ids)
    if result is None or result == {}:
        return []
    if not isinstance(result, dict) or not isinstance(result.get("batchItemFailures", []), list):
        return list(ids)
    failed = []
    for item in result.get("batchItemFailures", []):
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in ids:
            return list(ids)
        failed.append(ident)
    return failed


# -- renderers ----------------------------------------------------------------------------------


def scheduled_event(rule: str, at: datetime) -> dict[str, Any]:
    """An EventBridge rule's scheduled event:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html"""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": _zulu(at, ms=False),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


def s3_key(key: str) -> str:
    """S3 writes the key form-encoded ("red flower.jpg" -> "red+flower.jpg"), slashes kept:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html"""
    return quote_plus(key, safe="/")


def s3_notification(case: StorageCase) -> dict[str, Any]:
    """An S3 event notification (event structure version 2.1), as S3 sends it to Lambda, SQS
    and SNS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
    """
    obj: dict[str, Any] = {"key": s3_key(case.key), "sequencer": "0066A8D0E77DE42BC5"}
    if case.kind == "created":
        big = (case.size or 0) > _SINGLE_PUT_LIMIT
        name = "ObjectCreated:CompleteMultipartUpload" if big else "ObjectCreated:Put"
        obj.update(size=case.size, eTag=case.etag, versionId=case.version)
    else:
        name = "ObjectRemoved:Delete"
        obj["versionId"] = case.version
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": _zulu(case.time),
        "eventName": name,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {
            "x-amz-request-id": "8A2D41C9E07B3F55",
            "x-amz-id-2": "q9Zc1f0kBv3U6uXGJrj2m7hXy8n4Ow0pT5aLd2sHcE1iRkYvNgWQbMzA+oPtFlJe",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "polyfn-conformance",
            "bucket": {
                "name": case.bucket,
                "ownerIdentity": {"principalId": "A1B2C3CONFORMANCE"},
                "arn": f"arn:aws:s3:::{case.bucket}",
            },
            "object": obj,
        },
    }
    return {"Records": [record]}


def s3_eventbridge(case: StorageCase) -> dict[str, Any]:
    """S3's "Object Created" / "Object Deleted" event on EventBridge. The documented examples
    carry the key as the object is named; nothing in the docs says it is form-encoded:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html"""
    obj: dict[str, Any] = {"key": case.key, "sequencer": "617f08299329d189"}
    if case.kind == "created":
        detail_type, reason = "Object Created", "PutObject"
        obj.update(size=case.size, etag=case.etag, **{"version-id": case.version})
        if (case.size or 0) > _SINGLE_PUT_LIMIT:
            reason = "CompleteMultipartUpload"
        extra: dict[str, Any] = {}
    else:
        detail_type, reason = "Object Deleted", "DeleteObject"
        obj["version-id"] = case.version
        extra = {"deletion-type": "Permanently Deleted"}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": _zulu(case.time, ms=False),
        "region": REGION,
        "resources": [f"arn:aws:s3:::{case.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": case.bucket},
            "object": obj,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": ACCOUNT,
            "source-ip-address": "203.0.113.7",
            "reason": reason,
            **extra,
        },
    }


def _sns_envelope(
    topic: str,
    message: str,
    at: datetime,
    *,
    for_sqs: bool,
    message_id: str | None = None,
    subject: str | None = "Amazon S3 Notification",
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The SNS notification document. Lambda gets `SigningCertUrl`/`UnsubscribeUrl`; SQS
    subscribers get `SigningCertURL`/`UnsubscribeURL` in the message body:
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html"""
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic}"
    sub = f"{arn}:{uuid.uuid4()}"
    cert, unsub = (
        ("SigningCertURL", "UnsubscribeURL") if for_sqs else ("SigningCertUrl", "UnsubscribeUrl")
    )
    return {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": arn,
        "Subject": subject,
        "Message": message,
        "Timestamp": _zulu(at),
        "SignatureVersion": "1",
        "Signature": base64.b64encode(b"conformance-signature").decode(),
        cert: f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0000000000.pem",
        unsub: f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub}",
        **(
            {}
            if for_sqs
            else {
                "MessageAttributes": {
                    k: {"Type": "String", "Value": v} for k, v in (attributes or {}).items()
                }
            }
        ),
    }


def sns_event(topic: str, message: str, at: datetime, **envelope: Any) -> dict[str, Any]:
    """An SNS notification as Lambda gets it (one record per invocation):
    https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html"""
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{arn}:{uuid.uuid4()}",
                "Sns": _sns_envelope(topic, message, at, for_sqs=False, **envelope),
            }
        ]
    }


def _md5_of_attributes(attributes: dict[str, str]) -> str:
    """MD5OfMessageAttributes: each attribute, sorted by name, as length-prefixed name, data type,
    transport type 1 (string) and length-prefixed value:
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
    """
    buf = b""
    for name in sorted(attributes):
        for part in (name.encode(), b"String"):
            buf += struct.pack(">I", len(part)) + part
        value = attributes[name].encode()
        buf += b"\x01" + struct.pack(">I", len(value)) + value
    return hashlib.md5(buf).hexdigest()


def sqs_record(
    queue: str,
    message_id: str,
    body: str,
    *,
    sent: datetime,
    receive_count: int = 1,
    attributes: dict[str, str] | None = None,
    group: str | None = None,
    sequence: int = 0,
) -> dict[str, Any]:
    """One SQS record as Lambda's event source mapping delivers it:
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"""
    attrs = attributes or {}
    system = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": _epoch_ms(sent),
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": _epoch_ms(sent + timedelta(milliseconds=12)),
    }
    if group is not None:  # FIFO queues: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
        system.update(
            SequenceNumber=str(18849496460467696128 + sequence),
            MessageGroupId=group,
            MessageDeduplicationId=hashlib.sha256(body.encode()).hexdigest(),
        )
    record: dict[str, Any] = {
        "messageId": message_id,
        "receiptHandle": "AQEB" + base64.b64encode(message_id.encode() * 3).decode(),
        "body": body,
        "attributes": system,
        "messageAttributes": {
            name: {
                "stringValue": value,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
            for name, value in attrs.items()
        },
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }
    if attrs:
        record["md5OfMessageAttributes"] = _md5_of_attributes(attrs)
    return record


def _text(m: Message, service: str = "SQS") -> str:
    """The body as text (SQS allows the characters above; SNS messages are strings too, with
    binary data only in attributes); Skip for a binary body."""
    text = m.text
    if text is None or any(not any(lo <= ord(ch) <= hi for lo, hi in _SQS_ALLOWED) for ch in text):
        raise Skip(f"{service} message bodies are text (a restricted set of Unicode); no binary")
    return text


# -- validation with a parser nobody here wrote -----------------------------------------------


def _validate(model_name: str, event: dict[str, Any]) -> Any:
    from aws_lambda_powertools.utilities.parser import models

    return getattr(models, model_name).model_validate(event)


# -- targets ------------------------------------------------------------------------------------


class _AwsTarget:
    cloud = "aws"
    name = ""
    trigger = ""

    def __repr__(self) -> str:
        return f"<target {self.name}>"


class EventBridgeSchedule(_AwsTarget):
    """An EventBridge rule fires on its schedule; only the rule's ARN says which one."""

    name = "aws-eventbridge"
    trigger = "schedule"

    def run(self, case: ScheduleCase, app: App) -> Outcome:
        """A past-due tick is the same event delivered hours late: Lambda retries a failed
        asynchronous invocation for up to 6 hours, and the event keeps its `time`:
        https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"""
        from polyfn_aws import rule_name

        from conformance.cases.schedule import tick_result

        tick = case.fire()
        event = scheduled_event(rule_name(app, app.function(case.function)), tick.scheduled_time)
        _validate("EventBridgeModel", event)
        result, error = _invoke(app, event)
        if error is not None:
            raise error
        return Outcome(result=tick_result(tick, result))


class _StorageTarget(_AwsTarget):
    trigger = "storage"

    def render(self, case: StorageCase) -> dict[str, Any]:
        raise NotImplementedError

    def run(self, case: StorageCase, app: App) -> Outcome:
        event = self.render(case)
        result, error = _invoke(app, event)
        if error is not None:
            raise error
        failed: list[str] = []
        if "Records" in event and event["Records"][0].get("eventSource") == "aws:sqs":
            failed = _redelivered([r["messageId"] for r in event["Records"]], result, None)
        return Outcome(failed=failed, result=result)


class S3Direct(_StorageTarget):
    name = "aws-s3"

    def render(self, case: StorageCase) -> dict[str, Any]:
        event = s3_notification(case)
        _validate("S3Model", event)
        return event


class S3ViaSqs(_StorageTarget):
    """S3 notifies an SQS queue; Lambda reads the queue (the body is the notification JSON)."""

    name = "aws-s3-sqs"

    def render(self, case: StorageCase) -> dict[str, Any]:
        body = json.dumps(s3_notification(case))
        event = {
            "Records": [
                sqs_record(f"{case.bucket}-events", str(uuid.uuid4()), body, sent=case.time)
            ]
        }
        _validate("S3SqsEventNotificationModel", event)
        return event


class S3ViaSns(_StorageTarget):
    """S3 notifies an SNS topic that Lambda subscribes to (the Message is the notification)."""

    name = "aws-s3-sns"

    def render(self, case: StorageCase) -> dict[str, Any]:
        notification = s3_notification(case)
        event = sns_event(f"{case.bucket}-events", json.dumps(notification), case.time)
        _validate("SnsModel", event)
        _validate("S3Model", json.loads(event["Records"][0]["Sns"]["Message"]))
        return event


class S3ViaSnsSqs(_StorageTarget):
    """S3 -> SNS -> SQS -> Lambda: the SQS body is the SNS envelope, whose Message is the
    notification (raw message delivery off, the default)."""

    name = "aws-s3-sns-sqs"

    def render(self, case: StorageCase) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.parser.envelopes import SnsSqsEnvelope

        envelope = _sns_envelope(
            f"{case.bucket}-events", json.dumps(s3_notification(case)), case.time, for_sqs=True
        )
        event = {
            "Records": [
                sqs_record(
                    f"{case.bucket}-events", str(uuid.uuid4()), json.dumps(envelope), sent=case.time
                )
            ]
        }
        from aws_lambda_powertools.utilities.parser.models import S3Model

        SnsSqsEnvelope().parse(event, S3Model)
        return event


class S3ViaEventBridge(_StorageTarget):
    name = "aws-s3-eventbridge"

    def render(self, case: StorageCase) -> dict[str, Any]:
        event = s3_eventbridge(case)
        _validate("S3EventNotificationEventBridgeModel", event)
        return event


class Sqs(_AwsTarget):
    """An SQS event source mapping with ReportBatchItemFailures on: one invocation per batch."""

    name = "aws-sqs"
    trigger = "queue"
    delivery = "batch"
    fifo = False

    def run(self, case: QueueCase, app: App) -> Outcome:
        if case.fifo != self.fifo:
            raise Skip(
                "a case for the FIFO queue: a standard queue keeps no group order (aws-sqs-fifo)"
                if case.fifo
                else "a case for the standard queue, which aws-sqs delivers"
            )
        queue = case.queue + (".fifo" if self.fifo else "")
        records = [
            sqs_record(
                queue,
                m.id,
                _text(m),
                sent=m.enqueued_time,
                receive_count=m.delivery_count,
                attributes=m.attrs,
                group=m.group if self.fifo else None,
                sequence=i,
            )
            for i, m in enumerate(case.messages)
        ]
        event = {"Records": records}
        _validate("SqsModel", event)
        result, error = _invoke(app, event)
        failed = _redelivered(case.ids, result, error)
        native = result if error is None else repr(error)
        return Outcome(failed=failed, result={"delivery": self.delivery, "native": native})


class SqsFifo(Sqs):
    """A FIFO queue: Lambda keeps order within a message group, so after a failure the rest of
    that group must come back too: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """

    name = "aws-sqs-fifo"
    delivery = "fifo"
    fifo = True


class Sns(_AwsTarget):
    """An SNS topic named like the queue, with the Lambda subscribed: each message is its own
    asynchronous invocation, and a raise makes Lambda retry it (then its on-failure destination):
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"""

    name = "aws-sns"
    trigger = "queue"

    def run(self, case: QueueCase, app: App) -> Outcome:
        if case.fifo:
            raise Skip("ordered groups are an SQS FIFO case (aws-sqs-fifo)")
        if any(m.delivery_count > 1 for m in case.messages):
            raise Skip("SNS does not count deliveries: a retried notification looks like the first")
        events = []
        for m in case.messages:
            event = sns_event(
                case.queue,
                _text(m, "SNS"),
                m.enqueued_time,
                message_id=m.id,
                subject=None,
                attributes=m.attrs,
            )
            _validate("SnsModel", event)
            events.append(event)
        failed: list[str] = []
        errors: list[str] = []
        for m, event in zip(case.messages, events, strict=True):
            _, error = _invoke(app, event)
            if error is not None:
                failed.append(m.id)
                errors.append(repr(error))
        return Outcome(failed=failed, result={"delivery": "single", "native": errors})


class SnsSubscription(_AwsTarget):
    """An SNS topic with one Lambda per subscriber function subscribed to it (as `polyfn build`
    deploys it): each message is an asynchronous invocation of each subscriber's Lambda, and a
    raise makes Lambda retry that subscriber's invocation alone:
    https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html

    A binary body travels as polyfn's AWS backend publishes it: base64 text with the message
    attribute ``polyfn-encoding: base64`` (docs/resources-aws.md), since SNS messages are text.
    """

    name = "aws-sns-subscription"
    trigger = "subscribe"

    def run(self, case: SubscribeCase, app: App) -> Outcome:
        if any(m.delivery_count > 1 for m in case.messages):
            raise Skip("SNS does not count deliveries: a retried notification looks like the first")
        events = [self._event(case, m) for m in case.messages]
        failed: list[str] = []
        errors: list[str] = []
        for fn in case.functions:
            for m, event in zip(case.messages, events, strict=True):
                _, error = _invoke(app, event, fn)
                if error is not None:
                    failed.append(copy_id(fn, m))
                    errors.append(repr(error))
        # What every subscriber's handler saw: the runner's recording (it owns the Recorder).
        return Outcome(failed=failed, result={"native": errors})

    @staticmethod
    def _event(case: SubscribeCase, m: Message) -> dict[str, Any]:
        if m.text is None:
            message = base64.b64encode(m.body).decode()
            attributes = {**m.attrs, SNS_ENCODING_ATTRIBUTE: "base64"}
        else:
            message, attributes = _text(m, "SNS"), m.attrs
        event = sns_event(
            case.topic,
            message,
            m.enqueued_time,
            message_id=m.id,
            subject=None,
            attributes=attributes,
        )
        _validate("SnsModel", event)
        return event


TARGETS: list[Any] = [
    EventBridgeSchedule(),
    S3Direct(),
    S3ViaSqs(),
    S3ViaSns(),
    S3ViaSnsSqs(),
    S3ViaEventBridge(),
    Sqs(),
    SqsFifo(),
    Sns(),
    SnsSubscription(),
]
