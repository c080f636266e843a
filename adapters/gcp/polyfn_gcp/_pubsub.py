"""Pub/Sub messages, as a push subscription posts them or as Eventarc wraps them in a CloudEvent.

Both carry the same envelope: ``{"message": {"data": base64, "attributes": {...}, "messageId",
"publishTime", "orderingKey"}, "subscription": ..., "deliveryAttempt": n}``.
https://cloud.google.com/pubsub/docs/push#receive_push
https://cloud.google.com/eventarc/docs/cloudevents#pubsub
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from polyfn import EventError, QueueMessage
from polyfn._values import (
    arrived,
    base64_bytes,
    mapping,
    optional_int,
    optional_str,
    optional_timestamp,
    string_map,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

PUBSUB_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
PUSH_SOURCE = "Pub/Sub push subscription"
CLOUDEVENT_SOURCE = f"Pub/Sub CloudEvent ({PUBSUB_TYPE})"

# CloudEvent source of a Pub/Sub event: "//pubsub.googleapis.com/projects/PROJECT/topics/TOPIC".
# https://cloud.google.com/eventarc/docs/reference/supported-events#pubsub
_TOPIC_SOURCE = re.compile(r"^//pubsub\.googleapis\.com/projects/[^/]+/topics/([^/]+)$")

# Each message field under its canonical (camelCase) name and the other spelling Google sends:
# push bodies carry both "messageId" and "message_id", "publishTime" and "publish_time".
# https://cloud.google.com/pubsub/docs/push#receive_push
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "messageId": ("messageId", "message_id"),
    "publishTime": ("publishTime", "publish_time"),
    "orderingKey": ("orderingKey", "ordering_key"),
}


def topic_from_source(source: Any) -> str | None:
    """The topic name from a Pub/Sub CloudEvent source, or None if the source names none."""
    if not isinstance(source, str):
        return None
    m = _TOPIC_SOURCE.match(source)
    return m.group(1) if m else None


def _canonical(message: Mapping[str, Any]) -> dict[str, Any]:
    """The message's id, publish time and ordering key under their camelCase names."""
    out: dict[str, Any] = {}
    for name, spellings in _SPELLINGS.items():
        for key in spellings:
            if message.get(key) not in (None, ""):
                out[name] = message[key]
                break
    return out


def _data(value: Any, field: str, source: str) -> bytes:
    """The message data; an absent field is an empty payload.

    Pub/Sub's message data is a protobuf `bytes` field, and its JSON form (push bodies, Eventarc's
    MessagePublishedData) follows the proto3 JSON mapping: "standard base64 encoding with paddings.
    Either standard or URL-safe base64 encoding with/without paddings are accepted."
    https://protobuf.dev/programming-guides/json/ (functions-framework's own tests send "10").
    """
    if value is None:
        return b""
    if isinstance(value, str):
        value = value.strip()
    return base64_bytes(value, field, source, url_safe=True, padded=False)


def read_message(
    envelope: Any,
    *,
    queue: str,
    source: str,
    prefix: str = "",
    fallback_id: str | None = None,
) -> QueueMessage:
    """The QueueMessage in a Pub/Sub envelope; `prefix` is where the envelope sits ("data.")."""
    body = mapping(envelope, prefix.rstrip(".") or "body", source)
    message = mapping(body.get("message"), f"{prefix}message", source)
    field = f"{prefix}message"
    data = _data(message.get("data"), f"{field}.data", source)
    attributes = dict(string_map(message.get("attributes"), f"{field}.attributes", source))
    fields = _canonical(message)
    message_id = fields.get("messageId", fallback_id)
    if not isinstance(message_id, str):
        raise EventError(
            f"messageId is {'missing' if message_id is None else arrived(message_id)}",
            field=f"{field}.messageId",
            source=source,
        )
    published = optional_timestamp(fields.get("publishTime"), f"{field}.publishTime", source)
    group = optional_str(fields.get("orderingKey"), f"{field}.orderingKey", source)
    # deliveryAttempt is present only when the subscription has a dead-letter policy; without it
    # Pub/Sub does not count, and the first delivery is the honest default.
    # https://cloud.google.com/pubsub/docs/handling-failures#track-delivery-attempts
    attempt = optional_int(
        body.get("deliveryAttempt"), f"{prefix}deliveryAttempt", source, minimum=1
    )
    return QueueMessage(
        message_id,
        data,
        queue=queue,
        attributes=attributes,
        delivery_count=attempt or 1,
        enqueued_time=published,
        group=group,
        raw=envelope,
    )


def peek_attributes(envelope: Any, *, source: str, prefix: str = "") -> dict[str, str]:
    """The message attributes alone, read before the queue is known (schedule ticks)."""
    body = mapping(envelope, prefix.rstrip(".") or "body", source)
    message = mapping(body.get("message"), f"{prefix}message", source)
    return string_map(message.get("attributes"), f"{prefix}message.attributes", source)
