"""The schedule, storage, queue and subscriber functions of the conformance app, and their names.

`register_event_functions(app)` adds them to the one conformance app (conformance/app.py calls
it). Each handler records what it saw into `Recorder` as plain JSON-able values, so a target can
hand them back in its `Outcome` and a case can compare them with what it expects. The queue
handlers raise when a message asks them to (`asks_to_fail`), so the suite can see what each cloud
would redeliver.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from conformance._spec import Recorder
from polyfn import QueueMessage, Schedule, StorageEvent, TimerEvent

if TYPE_CHECKING:
    from datetime import datetime

    from polyfn import App, Context

# Logical names, equal to the physical names on every cloud (DESIGN.md "physical = logical").
CRON_FUNCTION = "tick_cron"
CRON_SCHEDULE = "* * * * *"  # every minute: see conformance/cases/schedule.py
RATE_FUNCTION = "tick_rate"
RATE_MINUTES = 5
STORAGE_FUNCTION = "on_object"  # objects created in BUCKET
DELETE_FUNCTION = "on_object_deleted"  # objects deleted from BUCKET
BUCKET = "conformance-uploads"
QUEUE_FUNCTION = "on_message"
QUEUE = "conformance-orders"
FIFO_FUNCTION = "on_ordered_message"
FIFO_QUEUE = "conformance-ordered"  # "conformance-ordered.fifo" on SQS
TOPIC = "conformance-notices"
# Two subscribers of TOPIC: every message must reach each, as its own delivery.
SUBSCRIBER_FUNCTIONS = ("on_notice", "on_notice_audit")
FAIL = "fail"  # an attribute of that name, or a JSON body {"fail": true}, makes the handler raise


class HandlerAsked(Exception):  # noqa: N818 - what the message asked for, not an error in the suite
    """Raised by the queue handlers when a message asks them to fail."""


def asks_to_fail(body: bytes, attributes: dict[str, str]) -> bool:
    """Whether the conformance queue handlers raise for a message with this body and attributes."""
    if FAIL in attributes:
        return True
    if not body.startswith(b"{"):
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get(FAIL) is True


def iso(value: datetime | None) -> str | None:
    """A datetime as the suite compares it: UTC, milliseconds, or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        return "naive:" + value.isoformat(timespec="milliseconds")
    from datetime import UTC

    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def differences(what: str, expected: Any, actual: Any) -> list[str]:
    """Readable differences between what a case expects and what a target returned ([] if same)."""
    if expected == actual:
        return []
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        if len(expected) != len(actual):
            out.append(f"{what}: expected {len(expected)} entries, got {len(actual)}")
        for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
            out.extend(differences(f"{what}[{i}]", want, got))
        return out or [f"{what}: expected {expected!r}, got {actual!r}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        return [
            f"{what}.{k}: expected {expected.get(k)!r}, got {actual.get(k)!r}"
            for k in sorted(set(expected) | set(actual))
            if expected.get(k) != actual.get(k)
        ]
    return [f"{what}: expected {expected!r}, got {actual!r}"]


# Set, the handlers also append what they saw to this file, one JSON object a line: how a test
# reads them back from a real server in another process (functions-framework on 127.0.0.1).
SEEN_FILE_ENV = "POLYFN_CONFORMANCE_SEEN_FILE"


def _record(entry: dict[str, Any]) -> None:
    Recorder.record(entry)
    path = os.environ.get(SEEN_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _record_tick(event: TimerEvent, ctx: Context) -> None:
    _record(
        {
            "fn": ctx.function_name,
            "name": event.name,
            "scheduled_time": iso(event.scheduled_time),
            "past_due": event.past_due,
        }
    )


def _record_object(event: StorageEvent, ctx: Context) -> None:
    _record(
        {
            "fn": ctx.function_name,
            "kind": event.kind,
            "bucket": event.bucket,
            "key": event.key,
            "size": event.size,
        }
    )


# A message with this attribute has the handler log one line and count one datapoint of that name.
METRIC_ATTRIBUTE = "conformance-metric"


def _record_message(msg: QueueMessage, ctx: Context) -> None:
    _record(
        {
            "fn": ctx.function_name,
            "id": msg.id,
            "queue": msg.queue,
            "body": msg.body.hex(),
            "attributes": dict(msg.attributes),
            "delivery_count": msg.delivery_count,
            "enqueued_time": iso(msg.enqueued_time),
            "group": msg.group,
        }
    )
    metric = msg.attributes.get(METRIC_ATTRIBUTE)
    if metric:  # the observability cases (conformance/cases/observe.py)
        ctx.log.info("metric asked", extra={"metric_name": metric})
        ctx.metrics.count(metric, 1)
    if asks_to_fail(msg.body, msg.attributes):
        raise HandlerAsked(f"message {msg.id} asked to fail")


def register_event_functions(app: App) -> App:
    """Add the conformance schedule, storage and queue functions to `app` (returned for
    chaining)."""

    @app.schedule(CRON_SCHEDULE, function_name=CRON_FUNCTION)
    def tick_cron(event: TimerEvent, ctx: Context) -> None:
        _record_tick(event, ctx)

    @app.schedule(Schedule.rate(minutes=RATE_MINUTES), function_name=RATE_FUNCTION)
    def tick_rate(event: TimerEvent, ctx: Context) -> None:
        _record_tick(event, ctx)

    # Two functions on one bucket, split by kind: dispatch must pick the right one, and on Azure
    # the created-only one can be a blob trigger (which never sees deletes).
    @app.storage(BUCKET, on=("created",), function_name=STORAGE_FUNCTION)
    def on_object(event: StorageEvent, ctx: Context) -> None:
        _record_object(event, ctx)

    @app.storage(BUCKET, on=("deleted",), function_name=DELETE_FUNCTION)
    def on_object_deleted(event: StorageEvent, ctx: Context) -> None:
        _record_object(event, ctx)

    @app.queue(QUEUE, function_name=QUEUE_FUNCTION)
    def on_message(msg: QueueMessage, ctx: Context) -> None:
        _record_message(msg, ctx)

    @app.queue(FIFO_QUEUE, fifo=True, function_name=FIFO_FUNCTION)
    def on_ordered_message(msg: QueueMessage, ctx: Context) -> None:
        _record_message(msg, ctx)

    @app.subscribe(TOPIC, function_name=SUBSCRIBER_FUNCTIONS[0])
    def on_notice(msg: QueueMessage, ctx: Context) -> None:
        _record_message(msg, ctx)

    @app.subscribe(TOPIC, function_name=SUBSCRIBER_FUNCTIONS[1])
    def on_notice_audit(msg: QueueMessage, ctx: Context) -> None:
        _record_message(msg, ctx)

    return app


def event_app(name: str = "conformance") -> App:
    """A fresh App holding only the event functions (for tests that run without the HTTP app)."""
    from polyfn import App

    return register_event_functions(App(name))


__all__ = [
    "BUCKET",
    "CRON_FUNCTION",
    "CRON_SCHEDULE",
    "DELETE_FUNCTION",
    "FAIL",
    "FIFO_FUNCTION",
    "FIFO_QUEUE",
    "QUEUE",
    "QUEUE_FUNCTION",
    "RATE_FUNCTION",
    "RATE_MINUTES",
    "SEEN_FILE_ENV",
    "STORAGE_FUNCTION",
    "SUBSCRIBER_FUNCTIONS",
    "TOPIC",
    "HandlerAsked",
    "asks_to_fail",
    "differences",
    "event_app",
    "iso",
    "register_event_functions",
]
