"""Timer trigger: `azure.functions.TimerRequest` -> `TimerEvent`.

The host passes the TimerInfo it built before the run (azure-webjobs-sdk-extensions
TimerListener.InvokeJobFunction): ``ScheduleStatus.Next`` is the occurrence being run now, the one
that was due (also for a past-due run), ``Last`` the one before. ScheduleStatus is absent when the
schedule is not monitored (useMonitor false), and then the scheduled time is unknown.
https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#usage
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn import EventError, TimerEvent
from polyfn._app import ScheduleTrigger
from polyfn._values import mapping, optional_timestamp
from polyfn_azure._values import attribute

if TYPE_CHECKING:
    from polyfn import Function, Schedule

SOURCE = "azure timer trigger"

# TimerInfo JSON fields (Microsoft.Azure.WebJobs.TimerInfo, ScheduleStatus).
PAST_DUE = "IsPastDue"
SCHEDULE_STATUS = "ScheduleStatus"
DUE_OCCURRENCE = "Next"


def timer_event(timer: Any, *, name: str = "", schedule: Schedule | None = None) -> TimerEvent:
    """The tick of a timer trigger's `azure.functions.TimerRequest`: `name` and `schedule` are
    the function's (the TimerRequest carries neither)."""
    past_due = attribute(timer, "past_due", PAST_DUE, SOURCE)
    if not isinstance(past_due, bool):
        raise EventError(
            f"{PAST_DUE} must be true or false, got {past_due!r:.40}", field=PAST_DUE, source=SOURCE
        )
    status = attribute(timer, "schedule_status", SCHEDULE_STATUS, SOURCE)
    scheduled = None
    if status:
        status = mapping(status, SCHEDULE_STATUS, SOURCE)
        scheduled = optional_timestamp(
            status.get(DUE_OCCURRENCE), f"{SCHEDULE_STATUS}.{DUE_OCCURRENCE}", SOURCE
        )
    return TimerEvent(name, schedule, scheduled, past_due, raw=timer)


def function_tick(fn: Function, timer: Any) -> TimerEvent:
    """The tick of schedule function `fn`."""
    trigger = fn.trigger
    schedule = trigger.schedule if isinstance(trigger, ScheduleTrigger) else None
    return timer_event(timer, name=fn.name, schedule=schedule)
