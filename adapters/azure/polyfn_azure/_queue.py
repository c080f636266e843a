"""Queues: Storage queue, Service Bus queue and Service Bus topic subscription messages ->
`QueueMessage`.

Bodies: both triggers are bound with ``dataType: binary`` so the host hands the worker the message
bytes as they are (a string binding would pass them through UTF-8). For Storage queues the host has
already removed the base64 of ``extensions.queues.messageEncoding`` ("base64" by default) when the
worker sees the message.
https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json
"""

from __future__ import annotations

from typing import Any

from polyfn import EventError, QueueMessage
from polyfn._values import mapping, optional_int, optional_str, optional_timestamp, required_str
from polyfn_azure._values import attribute

STORAGE_SOURCE = "azure storage queue trigger"
SERVICE_BUS_SOURCE = "azure service bus queue trigger"
SERVICE_BUS_TOPIC_SOURCE = "azure service bus topic trigger"

# Storage queue trigger metadata: Id, DequeueCount (1 on the first delivery), InsertionTime.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger#message-metadata
STORAGE_ID = "Id"
STORAGE_DEQUEUE_COUNT = "DequeueCount"
STORAGE_INSERTION_TIME = "InsertionTime"

# Service Bus trigger metadata: MessageId, DeliveryCount (1 on the first delivery),
# EnqueuedTimeUtc, SessionId, ApplicationProperties (UserProperties before extension 5.x).
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger#message-metadata
SB_ID = "MessageId"
SB_DELIVERY_COUNT = "DeliveryCount"
SB_ENQUEUED = "EnqueuedTimeUtc"
SB_SESSION = "SessionId"
SB_PROPERTIES = "ApplicationProperties"


# A Storage queue message carries a body and nothing else. polyfn's `Queue.send` with attributes
# on a Storage queue sends this JSON envelope instead of the bare bytes (a message without
# attributes is exactly its bytes, so other consumers read what was sent):
#     {"polyfn-envelope": 1, "attributes": {"k": "v"}, "data": "<base64 of the body>"}
# The queue trigger unwraps it, so the handler sees the body and attributes that were sent.
ENVELOPE_MARK = "polyfn-envelope"
_ENVELOPE_PREFIX = b'{"' + ENVELOPE_MARK.encode() + b'":1,'


def wrap_message(body: bytes, attributes: dict[str, str]) -> bytes:
    """The bytes a Storage queue message carries for `body` and `attributes`."""
    if not attributes:
        return body
    import base64
    import json

    envelope = {
        ENVELOPE_MARK: 1,
        "attributes": attributes,
        "data": base64.b64encode(body).decode(),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def unwrap_message(payload: bytes) -> tuple[bytes, dict[str, str]]:
    """The body and attributes of a Storage queue message (polyfn's envelope removed)."""
    if not payload.startswith(_ENVELOPE_PREFIX):
        return payload, {}
    import base64
    import binascii
    import json

    try:
        envelope = json.loads(payload)
        attributes = envelope["attributes"]
        body = base64.b64decode(envelope["data"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return payload, {}  # not polyfn's envelope after all: the bytes as they came
    if set(envelope) != {ENVELOPE_MARK, "attributes", "data"} or not (
        isinstance(attributes, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items())
    ):
        return payload, {}
    return body, attributes


def _body(msg: Any, source: str) -> bytes:
    body = attribute(msg, "get_body", "body", source)()
    if isinstance(body, str):
        return body.encode()
    if not isinstance(body, bytes | bytearray):
        raise EventError(f"body is {type(body).__name__}, not bytes", field="body", source=source)
    return bytes(body)


def _count(value: Any, field: str, source: str) -> int:
    """The delivery count; absent (metadata the host left out, as azure-functions' own
    test_servicebus_non_existing_property does) it is the first delivery, so a message that is
    otherwise readable is handled rather than failed until it is poisoned."""
    count = optional_int(value, field, source, minimum=1)
    return 1 if count is None else count


def storage_message(queue: str, msg: Any) -> QueueMessage:
    source = STORAGE_SOURCE
    body, attributes = unwrap_message(_body(msg, source))
    return QueueMessage(
        required_str(attribute(msg, "id", STORAGE_ID, source), STORAGE_ID, source),
        body,
        queue=queue,
        attributes=attributes,
        delivery_count=_count(
            attribute(msg, "dequeue_count", STORAGE_DEQUEUE_COUNT, source),
            STORAGE_DEQUEUE_COUNT,
            source,
        ),
        enqueued_time=optional_timestamp(
            attribute(msg, "insertion_time", STORAGE_INSERTION_TIME, source),
            STORAGE_INSERTION_TIME,
            source,
        ),
        raw=msg,
    )


def _properties(value: Any, source: str) -> dict[str, str]:
    """Application properties as strings (Service Bus allows numbers, booleans, times...)."""
    if not value:
        return {}
    props = mapping(value, SB_PROPERTIES, source)
    return {str(k): v if isinstance(v, str) else _json_text(v) for k, v in props.items()}


def _json_text(value: Any) -> str:
    """A non-string property as the JSON the host sent it in (``5``, ``true``, ``null``,
    ``{"a": 1}``), never a Python repr."""
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


def service_bus_message(queue: str, msg: Any, source: str = SERVICE_BUS_SOURCE) -> QueueMessage:
    """A Service Bus message, of a queue or (`queue` the topic's name, `source`
    `SERVICE_BUS_TOPIC_SOURCE`) of a topic subscription: both carry the same metadata."""
    props = attribute(msg, "application_properties", SB_PROPERTIES, source)
    if not props:
        props = attribute(msg, "user_properties", "UserProperties", source)
    return QueueMessage(
        required_str(attribute(msg, "message_id", SB_ID, source), SB_ID, source),
        _body(msg, source),
        queue=queue,
        attributes=_properties(props, source),
        delivery_count=_count(
            attribute(msg, "delivery_count", SB_DELIVERY_COUNT, source),
            SB_DELIVERY_COUNT,
            source,
        ),
        enqueued_time=optional_timestamp(
            attribute(msg, "enqueued_time_utc", SB_ENQUEUED, source), SB_ENQUEUED, source
        ),
        group=optional_str(attribute(msg, "session_id", SB_SESSION, source), SB_SESSION, source),
        raw=msg,
    )
