"""Which polyfn function a GCP delivery is for, and running it so a raise reaches the cloud."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn import EventError
from polyfn._app import QueueTrigger, ScheduleTrigger, StorageTrigger

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
