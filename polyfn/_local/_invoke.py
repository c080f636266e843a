"""Local invocations: build the neutral event and `Context` (provider "local"), call the app
within the function's timeout, and write one JSON log line per invocation (function, trigger,
duration, outcome).

`polyfn serve` and `polyfn.testing.Client` both go through these functions, so a test sees what
the local runtime does.

Timeouts: every invocation has the function's declared timeout, or polyfn's default
(`DEFAULT_TIMEOUT_SECONDS`), and `ctx.remaining_time()` counts down from it. Past it the
invocation fails as in the cloud: `InvocationTimeout` for events (the message is failed and
retried, the storage event retried, the tick logged), 504 for HTTP. With ``bounded=True``
(`polyfn serve`, `polyfn tick`) the handler runs on a thread of its own and the caller stops
waiting at the deadline. A Python thread cannot be killed, so the handler runs on in the
background; what it returns or raises afterwards is logged and discarded, and it cannot settle
its input any more: acknowledging a message is the runtime's move, made only for a handler that
returned in time. Without `bounded` (`polyfn.testing`), the handler runs in the caller's thread
and a late return fails the call afterwards, so tests keep their thread.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from polyfn._app import DEFAULT_TIMEOUT_SECONDS
from polyfn._context import Context, _ensure_logging
from polyfn._events import QueueMessage, TimerEvent
from polyfn._http import HttpResponse, dump_json
from polyfn._local._resources import bound_state, using_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from polyfn._app import App, Function
    from polyfn._events import StorageEvent
    from polyfn._http import HttpRequest
    from polyfn._local._queue import StoredMessage

LOGGER_NAME = "polyfn.local"
# The status a timed-out HTTP invocation answers: a gateway's "the function did not answer in
# time" (API Gateway's integration timeout, Cloud Run's request timeout), not a crash.
TIMEOUT_STATUS = 504

T = TypeVar("T")


class InvocationTimeout(TimeoutError):  # noqa: N818 - reads as what happened, like TimeoutError
    """A local invocation ran past its function's timeout and failed, as the cloud fails it."""

    def __init__(self, function: str, timeout: float) -> None:
        self.function = function
        self.timeout = timeout
        super().__init__(f"function {function!r} timed out after {timeout:g} s")


def local_logger() -> logging.Logger:
    """The local runtime's logger, writing JSON lines."""
    _ensure_logging()  # the JSON-lines handler on "polyfn", which this child propagates to
    return logging.getLogger(LOGGER_NAME)


def timeout_of(function: Function | None) -> float:
    """The function's timeout in seconds: declared, or polyfn's default."""
    return function.settings.effective_timeout if function is not None else DEFAULT_TIMEOUT_SECONDS


def local_context(
    function: Function | None, *, raw: Any = None, deadline: float | None = None
) -> Context:
    """A Context for one local invocation; `remaining_time()` counts down to `deadline`
    (`time.monotonic()` seconds; by default the function's timeout from now)."""
    end = deadline if deadline is not None else time.monotonic() + timeout_of(function)

    def remaining() -> timedelta:
        return timedelta(seconds=max(0.0, end - time.monotonic()))

    ctx = Context(
        "local",
        function.name if function is not None else "",
        uuid.uuid4().hex,
        remaining=remaining,
        raw=raw,
    )
    ctx._runtime_closes = True
    return ctx


def within_timeout(
    call: Callable[[], T], function: Function, ctx: Context, deadline: float, *, bounded: bool
) -> T:
    """`call()`'s result, or `InvocationTimeout` once `deadline` passes (see the module doc)."""
    timeout = timeout_of(function)
    if not bounded:
        try:
            result = call()
        except Exception as exc:
            if time.monotonic() > deadline:
                raise InvocationTimeout(function.name, timeout) from exc
            raise
        if time.monotonic() > deadline:
            raise InvocationTimeout(function.name, timeout)
        return result
    waited: T = _OwnThread(call, function.name, ctx.invocation_id, timeout).wait(deadline)
    return waited


class _OwnThread:
    """One handler call on a daemon thread that the caller may stop waiting for."""

    def __init__(
        self, call: Callable[[], Any], function: str, invocation_id: str, timeout: float
    ) -> None:
        self._call = call
        self._function = function
        self._invocation_id = invocation_id
        self._timeout = timeout
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._started = time.monotonic()
        context = contextvars.copy_context()  # the caller's context variables, as in-thread
        self._thread = threading.Thread(
            target=context.run,
            args=(self._run,),
            name=f"polyfn-handler-{function}",
            daemon=True,
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._call()
        except BaseException as exc:
            self._error = exc
        with self._lock:
            self._done.set()
            abandoned = self._abandoned
        if abandoned:
            local_logger().warning(
                "handler finished after its invocation timed out; its outcome is discarded",
                extra={
                    "function": self._function,
                    "invocation_id": self._invocation_id,
                    "timeout_s": self._timeout,
                    "ran_s": round(time.monotonic() - self._started, 3),
                    "late_outcome": "ok" if self._error is None else repr(self._error),
                },
            )

    def wait(self, deadline: float) -> Any:
        finished = self._done.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            if not finished and not self._done.is_set():
                self._abandoned = True
                raise InvocationTimeout(self._function, self._timeout)
        self._thread.join()  # it has finished; no thread outlives its invocation
        if self._error is not None:
            raise self._error
        return self._result


def log_invocation(
    function: str, trigger: str, started: float, outcome: str, ctx: Context, **extra: Any
) -> None:
    """The one line each invocation writes (its closing line), after its metrics."""
    metrics = ctx._metrics
    if metrics is not None:
        metrics.flush()
    trace = ctx.trace
    local_logger().info(
        "invocation",
        extra={
            "function": function,
            "trigger": trigger,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "outcome": outcome,
            "invocation_id": ctx.invocation_id,
            "trace_id": trace.trace_id,
            "span_id": trace.span_id,
            "cold_start": ctx.cold_start,
            **extra,
        },
    )


def handle_request(app: App, req: HttpRequest, *, bounded: bool = False) -> HttpResponse:
    """One HTTP request through the app's router; never raises (the app answers 404/405/500,
    and a handler past its timeout is answered `TIMEOUT_STATUS` with the request id)."""
    started = time.perf_counter()
    function = _route_function(app, req)
    deadline = time.monotonic() + timeout_of(function)
    ctx = local_context(function, raw=req.raw, deadline=deadline)
    outcome = "ok"
    if function is None:  # 404 or 405: the router answers, no handler runs
        resp = app.handle_http(req, ctx)
    else:
        try:
            # The handler's resources use the app's state folder (its own thread copies this
            # context).
            with using_state(bound_state(app)):
                resp = within_timeout(
                    lambda: app.handle_http(req, ctx), function, ctx, deadline, bounded=bounded
                )
        except InvocationTimeout as exc:
            ctx.log.error(str(exc), extra={"method": req.method, "path": req.path})
            outcome = "timeout"
            resp = HttpResponse(
                dump_json({"error": "timeout", "request_id": ctx.invocation_id}),
                TIMEOUT_STATUS,
                content_type="application/json",
            )
    if outcome == "ok" and resp.status >= 500:
        outcome = "error"
    log_invocation(
        function.name if function is not None else "",
        "http",
        started,
        outcome,
        ctx,
        method=req.method,
        path=req.path,
        status=resp.status,
    )
    return resp


def _route_function(app: App, req: HttpRequest) -> Function | None:
    try:
        return app.router.match(req.method, req.path)[1]
    except Exception:  # NoRoute / MethodNotAllowed: no function will run
        return None


def _call(
    function: Function, trigger: str, event: Any, app: App, *, bounded: bool, **extra: Any
) -> Any:
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_of(function)
    ctx = local_context(function, raw=getattr(event, "raw", None), deadline=deadline)
    try:
        with using_state(bound_state(app)):
            result = within_timeout(
                lambda: app.invoke(function, event, ctx), function, ctx, deadline, bounded=bounded
            )
    except InvocationTimeout as exc:
        ctx.log.error(str(exc))
        log_invocation(function.name, trigger, started, "timeout", ctx, error=str(exc), **extra)
        raise
    except Exception as exc:
        log_invocation(function.name, trigger, started, "error", ctx, error=repr(exc), **extra)
        raise
    log_invocation(function.name, trigger, started, "ok", ctx, **extra)
    return result


def fire_timer(
    app: App,
    function: Function,
    scheduled_time: datetime | None = None,
    *,
    past_due: bool = False,
    bounded: bool = False,
) -> Any:
    """Run a schedule function once, as its timer would; a raise (`InvocationTimeout` past the
    function's timeout) propagates after the log."""
    from polyfn._app import ScheduleTrigger

    trigger = function.trigger
    if not isinstance(trigger, ScheduleTrigger):
        from polyfn._errors import ConfigError

        raise ConfigError(
            f"function {function.name!r} is {trigger.noun}, not a schedule; "
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
    return _call(function, "schedule", event, app, bounded=bounded, scheduled_time=when.isoformat())


def run_storage_function(
    app: App, function: Function, event: StorageEvent, *, bounded: bool = False
) -> Any:
    """Run one storage function on `event`; a raise propagates after the log line."""
    return _call(
        function,
        "storage",
        event,
        app,
        bounded=bounded,
        bucket=event.bucket,
        key=event.key,
        kind=event.kind,
    )


def fire_storage(app: App, event: StorageEvent) -> list[Function]:
    """Run every storage function bound to `event`'s bucket, kind and key, in declaration
    order; returns them. The first raise propagates."""
    functions = app.storage_functions(event.bucket, event.kind, event.key)
    for function in functions:
        run_storage_function(app, function, event)
    return functions


def deliver_message(
    app: App, function: Function, message: QueueMessage, *, bounded: bool = False
) -> Any:
    """Run a queue function or topic subscriber on one message; a raise propagates (the message
    failed). The log line's trigger is the function's kind ("queue" or "subscribe")."""
    return _call(
        function,
        function.kind,
        message,
        app,
        bounded=bounded,
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


def stored_queue_message(stored: StoredMessage, queue: str | None = None) -> QueueMessage:
    """The QueueMessage a consumer gets for a message of the local SQLite queue; `queue` names
    what the consumer reads (a subscriber's topic, rather than its subscription queue)."""
    return queue_message(
        stored.id,
        stored.body,
        queue or stored.queue,
        attributes=stored.attributes,
        delivery_count=stored.delivery_count,
        enqueued=stored.enqueued,
        group=stored.group,
        raw={"receipt": stored.receipt},
    )
