"""Timer ticks on Lambda: EventBridge scheduled events and EventBridge Scheduler invocations.

An EventBridge rule sends ``{"source": "aws.events", "detail-type": "Scheduled Event",
"resources": [rule ARN], "time": ...}``; only the rule ARN says which schedule fired, so the
builder names each rule with `rule_name` and dispatch reads the name back.
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html

The same tick may come with ``"source": "aws.scheduler"`` and the schedule's ARN as resource
(aws-lambda-powertools' tests/events/eventBridgeSchedulerEvent.json); the schedule name is read
as a rule name.

An EventBridge Scheduler schedule sends whatever Input it was given; the builder gives it
`scheduler_input` (the app, the function, and the scheduled time that Scheduler substitutes).
https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html

Neither source says whether a tick is late, so polyfn calls a tick past due when it arrives more
than `PAST_DUE_AFTER` after its scheduled time: a delivery Lambda retried after a failure (for up
to six hours, keeping the event's ``time``:
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html) or one held back
by a throttle. Both sources invoke the function asynchronously: a raise fails the invocation and
Lambda retries it.
"""

from __future__ import annotations

from polyfn._errors import EventError
from polyfn._events import TimerEvent
from polyfn._values import optional_timestamp, timestamp
from polyfn_aws._context import to_context
from polyfn_aws._fields import get
from polyfn_aws._names import SCHEDULER_TIME, rule_name

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from polyfn._app import App, Function

SCHEDULED = "EventBridge scheduled event"
# A scheduled rule runs within the minute it is due (one minute is the schedules' precision);
# a tick arriving later than this after its time was held back or retried.
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
PAST_DUE_AFTER_SECONDS = 120
SCHEDULER = "EventBridge Scheduler"

# arn:aws:events:<region>:<account>:rule/[<event-bus>/]<rule-name>
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html#amazoneventbridge-resources-for-iam-policies
# arn:aws:scheduler:<region>:<account>:schedule/<group>/<schedule-name>
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html#amazoneventbridgescheduler-resources-for-iam-policies
RULE_ARN_MARKS = (":rule/", ":schedule/")


def _past_due(scheduled: datetime | None, now: datetime | None) -> bool:
    if scheduled is None:
        return False
    from datetime import UTC, datetime

    late = (now or datetime.now(UTC)) - scheduled
    return late.total_seconds() > PAST_DUE_AFTER_SECONDS


def _serving(app: App, function: Function, what: str, source: str, field: str) -> EventError:
    return EventError(
        f"this Lambda serves {function.name!r} ({function.trigger_label}) of app {app.name!r}, "
        f"but {what} arrived; the app serves: {app.describe()}",
        field=field,
        source=source,
    )


def _rule_of(event: dict[str, Any]) -> str | None:
    for arn in get(event, "resources", list, SCHEDULED):
        if type(arn) is str and any(mark in arn for mark in RULE_ARN_MARKS):
            return arn.rsplit("/", 1)[-1]
    return None


def schedule_function(app: App, function: Function | None, rule: str | None) -> Function:
    """The schedule function that the EventBridge rule named `rule` fires.

    The function the Lambda was built for if one was given; else the one whose `rule_name` is
    `rule`. A rule that names no function is an `EventError`, even in an app with one schedule:
    a Lambda also fired by another rule (a keep-warm ping) must not run the job on each ping.
    Only an event that names no rule at all goes to an app's only schedule function.
    """
    what = f"a tick of rule {rule!r}" if rule else "a scheduled event without a rule ARN"
    if function is not None:
        if function.trigger_label != "schedule":
            raise _serving(app, function, what, SCHEDULED, "resources")
        return function
    schedules = app.functions_of("schedule")
    for fn in schedules:
        if rule is not None and rule_name(app, fn) == rule:
            return fn
    if rule is None and len(schedules) == 1:
        return schedules[0]
    raise EventError(
        f"{what} matches no schedule function of app {app.name!r} (expected rule names "
        f"{[rule_name(app, fn) for fn in schedules]}); the app serves: {app.describe()}",
        field="resources",
        source=SCHEDULED,
    )


def handle_scheduled(
    app: App,
    function: Function | None,
    event: dict[str, Any],
    lambda_context: Any,
    now: datetime | None = None,
) -> None:
    fn = schedule_function(app, function, _rule_of(event))
    when = timestamp(event.get("time"), "time", SCHEDULED)
    trigger: Any = fn.trigger
    tick = TimerEvent(fn.name, trigger.schedule, when, _past_due(when, now), raw=event)
    event_id = event.get("id")
    ctx = to_context(lambda_context, fn.name, event_id if type(event_id) is str else None)
    app.invoke(fn, tick, ctx)


def handle_scheduler(
    app: App,
    function: Function | None,
    event: dict[str, Any],
    lambda_context: Any,
    now: datetime | None = None,
) -> None:
    app_name = get(event, "polyfn.app", str, SCHEDULER)
    name = get(event, "polyfn.function", str, SCHEDULER)
    if app_name != app.name:
        raise EventError(
            f"a schedule of app {app_name!r} arrived at app {app.name!r}; "
            f"the app serves: {app.describe()}",
            field="polyfn.app",
            source=SCHEDULER,
        )
    what = f"a tick of schedule function {name!r}"
    if function is not None:
        if function.trigger_label != "schedule" or function.name != name:
            raise _serving(app, function, what, SCHEDULER, "polyfn.function")
        fn = function
    else:
        found = [f for f in app.functions_of("schedule") if f.name == name]
        if not found:
            raise EventError(
                f"{what} arrived, but app {app.name!r} has no such schedule function; "
                f"the app serves: {app.describe()}",
                field="polyfn.function",
                source=SCHEDULER,
            )
        fn = found[0]
    raw_time = event.get("time")
    # An Input sent by hand (or a test invoke) carries the placeholder unsubstituted.
    when = None if raw_time == SCHEDULER_TIME else optional_timestamp(raw_time, "time", SCHEDULER)
    trigger: Any = fn.trigger
    tick = TimerEvent(fn.name, trigger.schedule, when, _past_due(when, now), raw=event)
    app.invoke(fn, tick, to_context(lambda_context, fn.name))
