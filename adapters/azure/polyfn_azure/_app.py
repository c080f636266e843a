"""`function_app(app, **options)`: one Azure function per polyfn function, in one
`azure.functions.FunctionApp` (the Python v2 programming model).

Bindings, per polyfn trigger:

- ``http``: ``httpTrigger`` with the route template (``{name}``, greedy ``{*name}``) and its
  methods; a route's first function also binds every method that no function of the route
  declares, so the app answers 405 with Allow. ``http`` output.
- ``schedule``: ``timerTrigger`` with the NCRONTAB schedule (six fields, seconds first).
- ``storage`` with ``on=["created"]``: ``blobTrigger`` on ``container/<prefix>{name}<suffix>``
  (source LogsAndContainerScan or EventGrid).
- ``storage`` with deletes too, or ``storage_trigger="eventgrid"``: ``eventGridTrigger`` for
  Microsoft.Storage.BlobCreated/BlobDeleted, in the Event Grid or the CloudEvents schema.
- ``queue``: ``queueTrigger`` (Storage queue), or ``serviceBusTrigger`` for the queues named in
  ``service_bus_queues`` and for ``fifo=True`` queues (sessions on).
- ``subscribe``: ``serviceBusTrigger`` on a Service Bus topic, with one subscription per subscriber
  function, named after it. Service Bus rather than Event Grid: its messages keep the queue
  semantics (the bytes as sent, application properties, delivery counts, dead-lettering per
  subscription), so a subscriber reads the same `QueueMessage` as a queue consumer.

What a raise does. The handler raises; the adapter lets the exception fail the invocation and the
trigger's extension decides what becomes of the input:

===================  ========================================  ===================================
trigger              a raise                                   then
===================  ========================================  ===================================
HTTP                 never reaches the host: the app answers   nothing is retried
                     500 {"error": "internal error",
                     "request_id": ...}; traceback in the log
timer                the invocation fails and is logged        retried `retries` times a minute
                                                               apart when declared, else not; the
                                                               next occurrence runs on schedule
Storage queue        the message turns visible again and is    after maxDequeueCount (5) dequeues
                     retried                                   it moves to <queue>-poison
Service Bus queue    the message is abandoned and redelivered  after the queue's MaxDeliveryCount
                                                               (10) it goes to the dead-letter queue
Service Bus topic    the subscription's copy is abandoned and  after the subscription's
subscription         redelivered; other subscribers' copies    MaxDeliveryCount (10) it goes to
                     are untouched                             that subscription's dead-letter queue
blob trigger         the blob is retried                       after 5 tries a message naming it
                                                               goes to webjobs-blobtrigger-poison
Event Grid           the host answers Event Grid with an       Event Grid retries (30 tries / 24 h
                     error                                     by default), then dead-letters if
                                                               the subscription has a dead-letter
                                                               destination, else drops the event
===================  ========================================  ===================================

Sources: https://learn.microsoft.com/azure/azure-functions/functions-bindings-error-pages ,
https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger ,
https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger ,
https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger ,
https://learn.microsoft.com/azure/event-grid/delivery-and-retry ; the timer listener swallows a
failed run and schedules the next (azure-webjobs-sdk-extensions TimerListener.InvokeJobFunction).

An input the adapter cannot read is an `EventError` naming the field and the trigger; for HTTP it
is answered 400 with that message, elsewhere it fails the invocation like a raise (so the message
is retried and poisoned, never lost).

This module does not use ``from __future__ import annotations``: the worker reads the annotations of
the functions it loads with typing.get_type_hints and checks them against each binding's converter.
"""

from collections.abc import Callable
from typing import Any, assert_never

import azure.functions as func

from polyfn import App, ConfigError, EventError, Function, HttpResponse
from polyfn._app import (
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    SubscribeTrigger,
)
from polyfn._http import dump_json
from polyfn_azure._context import make_context
from polyfn_azure._http import UndeliverableCookieError, request_from_azure, response_to_azure
from polyfn_azure._options import AzureOptions
from polyfn_azure._queue import SERVICE_BUS_TOPIC_SOURCE, service_bus_message, storage_message
from polyfn_azure._routes import check_function_name, http_methods, route_template
from polyfn_azure._schedule import to_ncrontab
from polyfn_azure._storage import AZURE_KINDS, blob_event, event_grid_event
from polyfn_azure._timer import timer_event

# Binding (parameter) names: the worker matches them to the function's parameters by name, and the
# host wants a letter then letters or digits. The worker passes its context to a parameter named
# "context".
HTTP_ARG = "req"
TIMER_ARG = "timer"
# A failed tick with `retries=N` is retried N times, a minute apart.
TIMER_RETRY_STRATEGY = "fixed_delay"
TIMER_RETRY_DELAY = "00:01:00"
BLOB_ARG = "blob"
EVENT_ARG = "event"
MESSAGE_ARG = "msg"


def function_app(app: App, **options: Any) -> func.FunctionApp:
    """An `azure.functions.FunctionApp` serving every function of `app`; see `AzureOptions`.

    In ``function_app.py``: ``app = polyfn_azure.function_app(my_app)``.
    """
    opts = AzureOptions(**options)
    fa = func.FunctionApp(http_auth_level=opts.auth_level)
    methods = http_methods(app)
    for fn in app.functions:
        check_function_name(fn.name)
        trigger = fn.trigger
        match trigger:
            case HttpTrigger():
                builder = fa.route(
                    route=route_template(trigger.path),
                    methods=list(methods[fn.name]),
                    trigger_arg_name=HTTP_ARG,
                )(_named(_http_function(app, fn, opts), fn.name))
            case ScheduleTrigger():
                handler = _named(_timer_function(app, fn), fn.name)
                if fn.settings.retries:
                    # Timers take a function-level retry policy (the "Retries" table of
                    # https://learn.microsoft.com/azure/azure-functions/functions-bindings-error-pages);
                    # without one a failed tick is not retried.
                    handler = fa.retry(
                        strategy=TIMER_RETRY_STRATEGY,
                        max_retry_count=str(fn.settings.retries),
                        delay_interval=TIMER_RETRY_DELAY,
                    )(handler)
                schedule = to_ncrontab(trigger.schedule)
                builder = fa.timer_trigger(arg_name=TIMER_ARG, schedule=schedule)(handler)
            case StorageTrigger():
                builder = _register_storage(fa, app, fn, trigger, opts)
            case QueueTrigger():
                builder = _register_queue(fa, app, fn, trigger, opts)
            case SubscribeTrigger():
                builder = _register_subscription(fa, app, fn, trigger, opts)
            case _:
                assert_never(trigger)
        fa.function_name(name=fn.name)(builder)
    return fa


def _named(handler: Callable[..., Any], name: str) -> Callable[..., Any]:
    handler.__name__ = name
    handler.__qualname__ = name
    return handler


def _register_storage(
    fa: func.FunctionApp, app: App, fn: Function, trigger: StorageTrigger, opts: AzureOptions
) -> Any:
    unserved = [kind for kind in trigger.events if kind not in AZURE_KINDS]
    if unserved:
        raise ConfigError(
            f"function {fn.name!r}: Azure Blob Storage publishes no event for "
            f"{', '.join(unserved)}; on Azure a storage function can take "
            f"{' and '.join(AZURE_KINDS)}"
        )
    if opts.storage_trigger == "blob" and trigger.events == ("created",):
        for part in (trigger.prefix, trigger.suffix):
            if "{" in part or "}" in part:
                raise ConfigError(
                    f"function {fn.name!r}: prefix/suffix {part!r} holds a brace, which a blob "
                    "trigger path reads as a binding expression; use storage_trigger='eventgrid'"
                )
        return fa.blob_trigger(
            arg_name=BLOB_ARG,
            path=f"{trigger.bucket}/{trigger.prefix}{{name}}{trigger.suffix}",
            connection=opts.storage_connection,
            source=func.BlobSource(opts.blob_source),
        )(_named(_blob_function(app, fn), fn.name))
    return fa.event_grid_trigger(arg_name=EVENT_ARG)(_named(_event_grid_function(app, fn), fn.name))


def _register_queue(
    fa: func.FunctionApp, app: App, fn: Function, trigger: QueueTrigger, opts: AzureOptions
) -> Any:
    if trigger.fifo or trigger.queue in opts.service_bus_queues:
        return fa.service_bus_queue_trigger(
            arg_name=MESSAGE_ARG,
            connection=opts.service_bus_connection,
            queue_name=trigger.queue,
            data_type=func.DataType.BINARY,
            is_sessions_enabled=True if trigger.fifo else None,
        )(_named(_service_bus_function(app, fn), fn.name))
    return fa.queue_trigger(
        arg_name=MESSAGE_ARG,
        queue_name=trigger.queue,
        connection=opts.storage_connection,
        data_type=func.DataType.BINARY,
    )(_named(_storage_queue_function(app, fn), fn.name))


def _register_subscription(
    fa: func.FunctionApp, app: App, fn: Function, trigger: SubscribeTrigger, opts: AzureOptions
) -> Any:
    """A Service Bus topic trigger on the subscription named after the function: each subscriber
    has its own subscription, so each gets every message and fails its own copy."""
    return fa.service_bus_topic_trigger(
        arg_name=MESSAGE_ARG,
        connection=opts.service_bus_connection,
        topic_name=trigger.topic,
        subscription_name=subscription_name(fn),
        data_type=func.DataType.BINARY,
    )(_named(_service_bus_topic_function(app, fn), fn.name))


# Service Bus subscription names: 1-50 letters, digits, '.', '-' and '_' (polyfn function names
# are letters, digits, '-' and '_' already).
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftservicebus
SUBSCRIPTION_NAME_MAX = 50


def subscription_name(fn: Function) -> str:
    """The Service Bus subscription of subscriber `fn`: its function name."""
    if len(fn.name) > SUBSCRIPTION_NAME_MAX:
        raise ConfigError(
            f"function {fn.name!r}: on Azure a subscriber's Service Bus subscription is named "
            f"after it, and subscription names are at most {SUBSCRIPTION_NAME_MAX} characters; "
            "choose a shorter function_name="
        )
    return fn.name


# -- the functions the worker calls ------------------------------------------------------------


def serve_http(app: App, fn: Function, route_prefix: str, req: Any, context: Any) -> HttpResponse:
    """The polyfn response to one Azure HTTP invocation (never raises)."""
    ctx = make_context(fn.name, context)
    try:
        request = request_from_azure(req, route_prefix)
    except EventError as exc:
        ctx.log.error("unreadable HTTP request: %s", exc)
        return HttpResponse(
            dump_json({"error": "bad request", "detail": str(exc)}),
            400,
            content_type="application/json",
        )
    return app.handle_http(request, ctx)


def _http_function(app: App, fn: Function, opts: AzureOptions) -> Callable[..., Any]:
    def handler(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        resp = serve_http(app, fn, opts.route_prefix, req, context)
        try:
            return response_to_azure(resp)
        except UndeliverableCookieError as exc:
            ctx = make_context(fn.name, context)
            ctx.log.error("response cannot be delivered: %s", exc)
            return response_to_azure(
                HttpResponse(
                    dump_json({"error": "internal error", "request_id": ctx.invocation_id}),
                    500,
                    content_type="application/json",
                )
            )

    return handler


def _run(
    app: App, fn: Function, read: Callable[[], Any], context: Any, *, skip: str | None = None
) -> None:
    """Read the event (an EventError is logged and re-raised: the host retries or poisons the
    input), then invoke the handler, whose raise fails the invocation the same way."""
    ctx = make_context(fn.name, context)
    try:
        event = read()
    except EventError as exc:
        ctx.log.error("unreadable event: %s", exc, extra={"field": exc.field, "source": exc.source})
        raise
    if event is None:
        ctx.log.info("event skipped: %s", skip)
        return
    app.invoke(fn, event, ctx)


def _timer_function(app: App, fn: Function) -> Callable[..., Any]:
    def handler(timer: func.TimerRequest, context: func.Context) -> None:
        _run(app, fn, lambda: timer_event(fn, timer), context)

    return handler


def _blob_function(app: App, fn: Function) -> Callable[..., Any]:
    trigger = fn.trigger
    assert isinstance(trigger, StorageTrigger)

    def handler(blob: func.InputStream, context: func.Context) -> None:
        _run(app, fn, lambda: blob_event(trigger.bucket, blob), context)

    return handler


def _event_grid_function(app: App, fn: Function) -> Callable[..., Any]:
    trigger = fn.trigger
    assert isinstance(trigger, StorageTrigger)

    def read(event: Any) -> Any:
        storage = event_grid_event(event)
        if storage.bucket != trigger.bucket:
            raise EventError(
                f"a blob event for container {storage.bucket!r} reached {fn.name!r}, which is "
                f"bound to {trigger.bucket!r}; the app serves: {app.describe()}",
                field="subject",
                source="azure event grid",
            )
        if not trigger.accepts(storage.bucket, storage.kind, storage.key):
            return None
        return storage

    def handler(event: func.EventGridEvent, context: func.Context) -> None:
        _run(
            app,
            fn,
            lambda: read(event),
            context,
            skip=f"{fn.name} takes {','.join(trigger.events)} in {trigger.bucket}/"
            f"{trigger.prefix}*{trigger.suffix} only",
        )

    return handler


def _storage_queue_function(app: App, fn: Function) -> Callable[..., Any]:
    trigger = fn.trigger
    assert isinstance(trigger, QueueTrigger)

    def handler(msg: func.QueueMessage, context: func.Context) -> None:
        _run(app, fn, lambda: storage_message(trigger.queue, msg), context)

    return handler


def _service_bus_topic_function(app: App, fn: Function) -> Callable[..., Any]:
    trigger = fn.trigger
    assert isinstance(trigger, SubscribeTrigger)

    def handler(msg: func.ServiceBusMessage, context: func.Context) -> None:
        _run(
            app,
            fn,
            lambda: service_bus_message(trigger.topic, msg, SERVICE_BUS_TOPIC_SOURCE),
            context,
        )

    return handler


def _service_bus_function(app: App, fn: Function) -> Callable[..., Any]:
    trigger = fn.trigger
    assert isinstance(trigger, QueueTrigger)

    def handler(msg: func.ServiceBusMessage, context: func.Context) -> None:
        _run(app, fn, lambda: service_bus_message(trigger.queue, msg), context)

    return handler
