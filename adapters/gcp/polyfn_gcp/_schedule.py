"""A `Schedule` as a Cloud Scheduler job schedule (unix cron) and time zone, and back.

Cloud Scheduler reads the neutral form itself: five unix cron fields, OR'ed day-of-month and
day-of-week, in any tz database zone. The renderer only normalises spelling to what the docs
list, and removes one ambiguity: the docs say the day fields are OR'ed "unless one of the fields
is marked unrestricted by an asterisk", which crons read differently for ``1-31`` or ``*/2``. So a
day field that selects every day is written ``*``, and a stepped ``*`` in an OR'ed day field is
written as the range it stands for (``1-31/2``). Cloud Scheduler has no rate: a rate becomes the
clock-aligned cron of the same interval when there is one, and is refused otherwise.
"""

from __future__ import annotations

from polyfn._errors import ScheduleError
from polyfn._schedule import FULL, Schedule

# Cron job format and time zone:
# https://cloud.google.com/scheduler/docs/configuring/cron-job-schedules
# Minute 0-59, Hour 0-23, Day of the month 1-31, Month 1-12 (or JAN to DEC), Day of the week 0-6
# (or SUN to SAT; or 7 for Sunday); '*', ranges a-b, "Following a range with /NUMBER specifies
# skips" (so a bare a/n is written a-high/n), lists. No L, W, # and no seconds. The job's timeZone
# is a tz database name; the default is Etc/UTC.
DAY_FIELDS = (2, 4)
DEFAULT_TIME_ZONE = "Etc/UTC"


def to_cloud_scheduler(s: Schedule) -> tuple[str, str]:
    """The Cloud Scheduler ``(schedule, time_zone)`` of a job that fires when `s` does."""
    cron = s.as_cron()
    if cron is None:
        raise ScheduleError(
            f"schedule {s}: Cloud Scheduler takes only unix cron, whose fields restart every hour "
            "and day, so this rate has no exact cron. Use a rate that divides an hour (1, 2, 3, "
            "4, 5, 6, 10, 12, 15, 20, 30 minutes) or a day (1, 2, 3, 4, 6, 8, 12 hours), a day or "
            "a week, or a cron schedule"
        )
    rule = cron.day_rule()[0]
    fields = []
    for index in range(5):
        if index in DAY_FIELDS and cron.values(index) == FULL[index]:
            fields.append("*")
        else:
            fields.append(_field(cron, index, explicit_star=rule == "or" and index in DAY_FIELDS))
    return " ".join(fields), cron.tz


def from_cloud_scheduler(cron: str, time_zone: str = DEFAULT_TIME_ZONE) -> Schedule:
    """The Schedule a Cloud Scheduler job's unix cron and time zone mean.

    Raises `ScheduleError` for what unix cron in the neutral model does not say, and for a day
    field written as a stepped ``*`` next to a restricted other day field: Cloud Scheduler's docs
    leave open whether that ORs or ANDs the two (write ``1-31/2`` to OR them).
    """
    schedule = Schedule.cron(cron, time_zone or DEFAULT_TIME_ZONE)
    dom, dow = schedule.fields[2], schedule.fields[4]
    readings = {
        schedule.day_rule()[0] == "or",  # restricted = leaves out a day (croniter)
        dom != "*" and dow != "*",  # restricted = not written '*' (crontab(5))
        not dom.startswith("*") and not dow.startswith("*"),  # Vixie cron's star flag
    }
    if len(readings) > 1:
        raise ScheduleError(
            f"Cloud Scheduler schedule {cron!r}: crons disagree whether day-of-month {dom} and "
            f"day-of-week {dow} are OR'ed or AND'ed here. Write a field that selects every day as "
            "'*', and a stepped '*' as its range (1-31/2, 0-6/2)"
        )
    return schedule


def _field(s: Schedule, index: int, *, explicit_star: bool) -> str:
    if s.fields[index] == "*":
        return "*"
    parts = []
    for item in s.items(index):
        if item.star and not explicit_star:
            parts.append("*" if item.step == 1 else f"*/{item.step}")
        elif item.start == item.stop and item.step == 1:
            parts.append(str(item.start))
        else:
            step = f"/{item.step}" if item.step > 1 else ""
            parts.append(f"{item.start}-{item.stop}{step}")
    return ",".join(parts)
