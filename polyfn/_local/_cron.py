"""`next_fire`: when a `Schedule` fires next, evaluated locally with the standard library only.

Cron is evaluated in the schedule's time zone on wall-clock time, as crontab(5) describes:
minute, hour and month must match, and the day matches when day-of-month OR day-of-week does if
both are restricted (only the restricted one otherwise). A rate fires every N minutes counted
from `origin` (the moment the runtime started), as an EventBridge rate counts from its creation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from polyfn._schedule import Schedule

# Every cron expression fires at least once in 28 years (Feb 29 on a given weekday repeats then);
# past that the expression cannot fire (for example "0 0 31 2 *").
_HORIZON_DAYS = 366 * 28


def _zone(tz: str) -> object:
    if tz == "UTC":
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz)


def next_fire(schedule: Schedule, after: datetime, *, origin: datetime | None = None) -> datetime:
    """The first fire time strictly after `after` (aware UTC), or ValueError if there is none."""
    if after.tzinfo is None:
        raise ValueError("next_fire needs an aware datetime")
    if schedule.kind == "rate":
        step = timedelta(minutes=schedule.rate_minutes or 1)
        base = origin or after
        if after < base:
            return base + step
        periods = (after - base) // step + 1
        return (base + periods * step).astimezone(UTC)
    return _next_cron(schedule, after)


def _next_cron(schedule: Schedule, after: datetime) -> datetime:
    minutes = schedule.values(0)
    hours = schedule.values(1)
    doms = schedule.values(2)
    months = schedule.values(3)
    dows = schedule.values(4)
    dom_star = not schedule.day_of_month_restricted
    dow_star = not schedule.day_of_week_restricted
    zone = _zone(schedule.tz)

    def day_matches(day: datetime) -> bool:
        dom_ok = day.day in doms
        dow_ok = (day.weekday() + 1) % 7 in dows  # cron: 0 = Sunday; Python: 0 = Monday
        if dom_star and dow_star:
            return True
        if dom_star:
            return dow_ok
        if dow_star:
            return dom_ok
        return dom_ok or dow_ok

    local = after.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)  # type: ignore[arg-type]
    limit = local + timedelta(days=_HORIZON_DAYS)
    candidate = local + timedelta(minutes=1)
    while candidate <= limit:
        if candidate.month not in months:
            year, month = candidate.year + candidate.month // 12, candidate.month % 12 + 1
            candidate = datetime(year, month, 1)
            continue
        if not day_matches(candidate):
            candidate = datetime(candidate.year, candidate.month, candidate.day) + timedelta(days=1)
            continue
        if candidate.hour not in hours:
            candidate = candidate.replace(minute=0) + timedelta(hours=1)
            continue
        if candidate.minute not in minutes:
            candidate += timedelta(minutes=1)
            continue
        fire = candidate.replace(tzinfo=zone).astimezone(UTC)  # type: ignore[arg-type]
        # A wall-clock time repeated when clocks go back maps to its first occurrence; one that
        # precedes `after` in real time has already passed.
        if fire > after:
            return fire
        candidate += timedelta(minutes=1)
    raise ValueError(f"schedule {schedule} never fires")
