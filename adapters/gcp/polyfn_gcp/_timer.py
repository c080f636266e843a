"""Cloud Scheduler ticks, by HTTP target (its X-CloudScheduler headers) or by Pub/Sub message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from polyfn import EventError, TimerEvent
from polyfn._app import ScheduleTrigger
from polyfn._values import timestamp

if TYPE_CHECKING:
    from polyfn import Function, Headers, QueueMessage, Schedule

# Headers Cloud Scheduler sets on HTTP target requests: "X-CloudScheduler-JobName: This header will
# contain the job name. X-CloudScheduler-ScheduleTime: For Cloud Scheduler jobs specified in the
# unix-cron format, this header will contain the job schedule as an offset of UTC parsed according
# to RFC3339."
# https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget
JOB_NAME_HEADER = "X-CloudScheduler-JobName"
SCHEDULE_TIME_HEADER = "X-CloudScheduler-ScheduleTime"
HTTP_SOURCE = "Cloud Scheduler HTTP target"
PUBSUB_SOURCE = "Cloud Scheduler Pub/Sub target"

# Cloud Scheduler says nothing about lateness, so polyfn calls a tick past due when it arrives
# this long after its schedule time (a retry after a failed attempt, a backlog after an outage).
PAST_DUE_AFTER = timedelta(minutes=2)


def _schedule_of(fn: Function) -> ScheduleTrigger:
    trigger = fn.trigger
    if not isinstance(trigger, ScheduleTrigger):  # dispatch guarantees it; keep mypy honest
        raise EventError(f"function {fn.name!r} is not a schedule function", source=HTTP_SOURCE)
    return trigger


def job_id(header_value: str) -> str:
    """The job ID from X-CloudScheduler-JobName, which may be the ID or the full resource name
    ("projects/P/locations/L/jobs/ID")."""
    return header_value.rstrip("/").rsplit("/", 1)[-1]


def tick_from_headers(
    fn: Function,
    headers: Headers,
    expected_job: str,
    now: datetime | None = None,
    raw: object = None,
) -> TimerEvent:
    """The TimerEvent of a Cloud Scheduler HTTP request; EventError if it is not one for `fn`."""
    trigger = _schedule_of(fn)
    job = headers.get(JOB_NAME_HEADER)
    if not job:
        raise EventError(
            f"not a Cloud Scheduler request: header {JOB_NAME_HEADER} is missing",
            field=JOB_NAME_HEADER,
            source=HTTP_SOURCE,
        )
    if job_id(job) != expected_job:
        raise EventError(
            f"job {job!r} posted to the path of schedule function {fn.name!r}, "
            f"whose job is {expected_job!r}",
            field=JOB_NAME_HEADER,
            source=HTTP_SOURCE,
        )
    return header_tick(headers, fn.name, trigger.schedule, now, raw)


def header_tick(
    headers: Headers,
    name: str,
    schedule: Schedule | None,
    now: datetime | None = None,
    raw: object = None,
) -> TimerEvent:
    """The TimerEvent of a Cloud Scheduler HTTP request's headers, for schedule `name`."""
    raw_time = headers.get(SCHEDULE_TIME_HEADER)
    scheduled = (
        timestamp(raw_time, SCHEDULE_TIME_HEADER, HTTP_SOURCE) if raw_time is not None else None
    )
    return TimerEvent(
        name,
        schedule,
        scheduled,
        past_due=_past_due(scheduled, now),
        raw=raw if raw is not None else headers,
    )


def tick_from_message(fn: Function, msg: QueueMessage, now: datetime | None = None) -> TimerEvent:
    """The TimerEvent of a Cloud Scheduler Pub/Sub target message.

    Pub/Sub carries no schedule time, only the publish time, which Cloud Scheduler stamps a moment
    after the minute the job was due; unix cron fires on whole minutes, so the schedule time is the
    publish time truncated to its minute (a redelivery keeps the original publish time).
    """
    return message_tick(msg, fn.name, _schedule_of(fn).schedule, now)


def message_tick(
    msg: QueueMessage, name: str, schedule: Schedule | None, now: datetime | None = None
) -> TimerEvent:
    """The TimerEvent of a Cloud Scheduler Pub/Sub target message, for schedule `name`."""
    scheduled = msg.enqueued_time.replace(second=0, microsecond=0) if msg.enqueued_time else None
    return TimerEvent(
        name,
        schedule,
        scheduled,
        past_due=_past_due(scheduled, now) or msg.delivery_count > 1,
        raw=msg.raw,
    )


def _past_due(scheduled: datetime | None, now: datetime | None) -> bool:
    if scheduled is None:
        return False
    return (now or datetime.now(UTC)) - scheduled > PAST_DUE_AFTER
