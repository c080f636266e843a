"""Local invocations: build the neutral event and `Context` (provider "local"), call the app, and
write one JSON log line per invocation (function, trigger, duration, outcome).

`polyfn serve` and `polyfn.testing.Client` both go through these functions, so a test sees what
the local runtime does.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from polyfn._context import Context, _ensure_logging
from polyfn._events import QueueMessage, TimerEvent
from polyfn._local._resources import bound_state, using_state

if TYPE_CHECKING:
    from polyfn._app import App, Function
    from polyfn._events import StorageEvent
    from polyfn._http import HttpRequest, HttpResponse
    from polyfn._local._queue import StoredMessage

LOGGER_NAME = "polyfn.local"


def _logger() -> logging.Logger:
    _ensure_logging()  # the JSON-lines handler on "polyfn", which this child propagates to
    return logging.getLogger(LOGGER_NAME)


def local_context(function: Function | None, *, raw: Any = None) -> Context:
    """A Context for one local invocation; its deadline is the function's `timeout` setting."""
    started = time.monotonic()
    timeout = function.settings.timeout if function is not None else None

    def remaining() -> timedelta | None:
        if timeout is None:
            return None
        return timedelta(seconds=max(0.0, timeout - (time.monotonic() - started)))

    return Context(
        "local",
        function.name if function is not None else "",
        uuid.uuid4().hex,
        remaining=remaining,
        raw=raw,
    )


def log_invocation(
    function: str, trigger: str, started: float, outcome: str, ctx: Context, **extra: Any
) -> None:
    """The one line each invocation writes."""
    _logger().info(
        "invocation",
        extra={
            "function": function,
            "trigger": trigger,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "outcome": outcome,
            "invocation_id": ctx.invocation_id,
            **extra,
        },
    )


def handle_request(app: App, req: HttpRequest) -> HttpResponse:
    """One HTTP request through the app's router; never raises (the app answers 404/405/500)."""
    started = time.perf_counter()
    ctx = local_context(None, raw=req.raw)
    with using_state(bound_state(app)):  # the handler's resources live in the app's state folder
        resp = app.handle_http(req, ctx)
    matched = _route_function(app, req) if req.route is not None else ""
    log_invocation(
        matched,
        "http",
        started,
        "ok" if resp.status < 500 else "error",
        ctx,
        method=req.method,
        path=req.path,
        status=resp.status,
    )
    return resp


def _route_function(app: App, req: HttpRequest) -> str:
    try:
        return app.router.match(req.method, req.path)[1].name
    except Exception:  # NoRoute / MethodNotAllowed: no function ran
        return ""


def _call(function: Function, trigger: str, event: Any, app: App, **extra: Any) -> Any:
    started = time.perf_counter()
    ctx = local_context(function, raw=getattr(event, "raw", None))
    try:
        with using_state(bound_state(app)):
            result = app.invoke(function, event, ctx)
    except Exception as exc:
        log_invocation(function.name, trigger, started, "error", ctx, error=repr(exc), **extra)
        raise
    log_invocation(function.name, trigger, started, "ok", ctx, **extra)
    return result


def fire_timer(
    app: App, function: Function, scheduled_time: datetime | None = None, *, past_due: bool = False
) -> Any:
    """Run a schedule function once, as its timer would; a raise propagates after the log."""
    from polyfn._app import ScheduleTrigger

    trigger = function.trigger
    if not isinstance(trigger, ScheduleTrigger):
        from polyfn._errors import ConfigError

        raise ConfigError(
            f"function {function.name!r} is a {function.kind} function, not a schedule; "
            f"schedules in app {app.name!r}: "
            + (", ".join(f.name for f in app.functions_of("schedule")) or "none")
        )
    when = scheduled_time or datetime.now(UTC).replace(second=0, microsecond=0)
    event = TimerEvent(
        function.name,
        trigger.schedule,
        when,
        past_due,
        raw={"scheduled_time": when.isoformat(), "past_due": past_due},
    )
    return _call(function, "schedule", event, app, scheduled_time=when.isoformat())


def run_storage_function(app: App, function: Function, event: StorageEvent) -> Any:
    """Run one storage function on `event`; a raise propagates after the log line."""
    return _call(
        function, "storage", event, app, bucket=event.bucket, key=event.key, kind=event.kind
    )


def fire_storage(app: App, event: StorageEvent) -> list[Function]:
    """Run every storage function bound to `event`'s bucket, kind and key, in declaration
    order; returns them. The first raise propagates."""
    functions = app.storage_functions(event.bucket, event.kind, event.key)
    for function in functions:
        run_storage_function(app, function, event)
    return functions


def deliver_message(app: App, function: Function, message: QueueMessage) -> Any:
    """Run a queue function on one message; a raise propagates (the message failed)."""
    return _call(
        function,
        "queue",
        message,
        app,
        queue=message.queue,
        message_id=message.id,
        delivery_count=message.delivery_count,
    )


def queue_message(
    message_id: str,
    body: bytes,
    queue: str,
    *,
    attributes: dict[str, str] | None = None,
    delivery_count: int = 1,
    enqueued: float | None = None,
    group: str | None = None,
    raw: Any = None,
) -> QueueMessage:
    return QueueMessage(
        message_id,
        body,
        queue=queue,
        attributes=attributes,
        delivery_count=delivery_count,
        enqueued_time=datetime.fromtimestamp(enqueued, UTC) if enqueued is not None else None,
        group=group,
        raw=raw,
    )


def stored_queue_message(stored: StoredMessage) -> QueueMessage:
    """The QueueMessage a consumer gets for a message of the local SQLite queue."""
    return queue_message(
        stored.id,
        stored.body,
        stored.queue,
        attributes=stored.attributes,
        delivery_count=stored.delivery_count,
        enqueued=stored.enqueued,
        group=stored.group,
        raw={"receipt": stored.receipt},
    )
