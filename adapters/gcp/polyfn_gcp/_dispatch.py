"""Which polyfn function a GCP delivery is for, and running it so a raise reaches the cloud."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from polyfn import EventError
from polyfn._app import QueueTrigger, ScheduleTrigger, StorageTrigger, own_subscriber
from polyfn_gcp._names import entry_point, function_id

if TYPE_CHECKING:
    from polyfn import App, Context, Function, StorageEvent


class NotServedError(EventError):
    """A delivery for a schedule, queue or bucket that no function served here is bound to."""


def schedule_function(app: App, only: Function | None, name: str, source: str) -> Function:
    """The schedule function `name`; EventError if the app (or the served function) has none."""
    fn = next((f for f in app.functions if f.name == name), None)
    if fn is None or not isinstance(fn.trigger, ScheduleTrigger) or (only and fn is not only):
        serves = only.name if only else app.describe()
        raise NotServedError(
            f"a tick arrived for schedule {name!r}, which is not a schedule function served "
            f"here (serving: {serves})",
            source=source,
        )
    return fn


def queue_function(app: App, only: Function | None, queue: str, source: str) -> Function:
    """The function bound to `queue`; EventError naming what the app serves if there is none."""
    fn = app.queue_function(queue) if only is None else only
    if fn is None or not isinstance(fn.trigger, QueueTrigger) or fn.trigger.queue != queue:
        serves = only.name if only else app.describe()
        raise NotServedError(
            f"a message arrived for queue {queue!r}, which no function here is bound to "
            f"(serving: {serves})",
            source=source,
        )
    return fn


# What a deployed function knows of itself: functions-framework's --target (the entry point) and
# Cloud Run's service name (the function ID). https://cloud.google.com/run/docs/container-contract
TARGET_VARIABLE = "FUNCTION_TARGET"
SERVICE_VARIABLE = "K_SERVICE"


def message_function(app: App, only: Function | None, topic: str, source: str) -> Function:
    """The function a Pub/Sub message of `topic` is for: the subscriber of `topic` served here,
    else the queue function bound to it.

    Each subscriber is its own Cloud Function with its own Eventarc subscription, so a
    delivery is for exactly one of them: the served function (`only`), or for an entry point
    serving the whole app, the one this deployment is (its entry point in ``FUNCTION_TARGET``
    or its function ID in ``K_SERVICE``). Where neither says, the message is refused rather
    than run by every subscriber (each already has its own copy) or by one of them.
    """
    if only is not None:
        served = own_subscriber(only, topic, NotServedError, source=source)
        return served or queue_function(app, only, topic, source)
    subscribers = app.subscribers(topic)
    if not subscribers:
        return queue_function(app, None, topic, source)
    if len(subscribers) == 1:
        return subscribers[0]
    target = os.environ.get(TARGET_VARIABLE)
    service = os.environ.get(SERVICE_VARIABLE)
    for fn in subscribers:
        if entry_point(fn) == target or function_id(app, fn) == service:
            return fn
    raise NotServedError(
        f"topic {topic!r} has {len(subscribers)} subscribers "
        f"({', '.join(repr(f.name) for f in subscribers)}) and this entry point serves the "
        f"whole app {app.name!r} as none of them ({TARGET_VARIABLE}={target!r}, "
        f"{SERVICE_VARIABLE}={service!r}); deploy each subscriber as its own function with "
        "polyfn_gcp.cloud_event(app, function=NAME) (polyfn build does)",
        source=source,
    )


def storage_functions(
    app: App, only: Function | None, event: StorageEvent, source: str
) -> list[Function]:
    """The storage functions an object event triggers.

    An event for a bucket no function watches is an EventError (a misrouted trigger). An event for
    a watched bucket that no function's kind, prefix or suffix accepts is skipped (an empty list):
    Eventarc filters on the bucket alone, so such events arrive in normal operation.
    """
    candidates = [only] if only is not None else app.functions
    watching = [
        f
        for f in candidates
        if isinstance(f.trigger, StorageTrigger) and f.trigger.bucket == event.bucket
    ]
    if not watching:
        serves = only.name if only else app.describe()
        raise NotServedError(
            f"a {event.kind} event arrived for bucket {event.bucket!r}, which no function here "
            f"watches (serving: {serves})",
            source=source,
        )
    return [
        f
        for f in watching
        if isinstance(f.trigger, StorageTrigger)
        and f.trigger.accepts(event.bucket, event.kind, event.key)
    ]


def run_all(app: App, functions: list[Function], event: Any, ctx: Context) -> None:
    """Invoke each function on `event`; if any raised, re-raise the first failure after all ran,
    so the cloud redelivers the event (handlers run at least once, never silently not at all)."""
    failure: BaseException | None = None
    for fn in functions:
        try:
            app.invoke(fn, event, ctx)
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
