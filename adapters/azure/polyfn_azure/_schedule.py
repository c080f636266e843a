"""A `Schedule` as an Azure Functions timer-trigger NCRONTAB expression, and back.

NCRONTAB is unix cron with a seconds field first, day-of-week 0-6 and English names. Two
differences change meaning, so they are refused rather than rendered:
- NCrontab ANDs day-of-month and day-of-week (CrontabSchedule.TryGetNextOccurrence finds a day
  matching the day-of-month field, then skips it unless day-of-week matches too), where unix cron
  ORs two restricted day fields.
- The timer reads the expression in UTC. Another zone needs the app-wide setting
  WEBSITE_TIME_ZONE, which the docs say is not supported on Linux Consumption and Flex
  Consumption plans (where Python apps run) and which is one zone for every function of the app.
  So `to_ncrontab` renders a non-UTC schedule only when it has an exact UTC form (a zone with a
  fixed offset, `Schedule.in_utc`), and otherwise raises with the UTC alternative.
A rate becomes the clock-aligned cron of the same interval when there is one (every 5 minutes is
``0 */5 * * * *``); the TimeSpan form ("00:07:00") works only on App Service (Dedicated) plans,
which polyfn does not assume, so other rates are refused.
"""

from __future__ import annotations

from polyfn._errors import ScheduleError
from polyfn._schedule import FULL, Schedule, format_values

# Timer trigger, "NCRONTAB expressions" and "NCRONTAB time zones":
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions
# "{second} {minute} {hour} {day} {month} {day-of-week}"; five fields (no seconds) are accepted
# too. "For days, the numeric values are 0 to 6 where 0 starts with Sunday. Names are in English
# ... case-insensitive ... can be abbreviated." NCrontab matches a name by prefix
# (CrontabFieldImpl.ParseValue: https://github.com/atifaziz/NCrontab), as tabled here.
NCRONTAB_FIELDS = ("second", "minute", "hour", "day", "month", "day-of-week")
MONTH_NAMES = (
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE",
    "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER",
)  # fmt: skip
DAY_NAMES = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")
# (low, high, names) per unix field index 0-4 as NCrontab reads them: day-of-week stops at 6.
NCRONTAB_RANGES: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 59, ()),
    (0, 23, ()),
    (1, 31, ()),
    (1, 12, MONTH_NAMES),
    (0, 6, DAY_NAMES),
)
# WEBSITE_TIME_ZONE support by plan (includes/functions-timezone.md in the docs above).
TZ_HELP = (
    "Azure timer triggers read NCRONTAB in UTC; WEBSITE_TIME_ZONE is app-wide and not supported "
    "on Linux Consumption or Flex Consumption plans"
)


def to_ncrontab(s: Schedule) -> str:
    """The six-field NCRONTAB (seconds first, always 0) that fires when `s` does, in UTC."""
    cron = s.as_cron()
    if cron is None:
        raise ScheduleError(
            f"schedule {s}: Azure timer triggers take NCRONTAB, whose fields restart every hour "
            "and day, so this rate has no exact cron. Use a rate that divides an hour (1, 2, 3, "
            "4, 5, 6, 10, 12, 15, 20, 30 minutes) or a day (1, 2, 3, 4, 6, 8, 12 hours), a day or "
            "a week, or a cron schedule (a TimeSpan rate works only on an App Service plan)"
        )
    utc = cron.in_utc()
    if utc is None:
        raise ScheduleError(
            f"schedule {s}: {TZ_HELP}, and {s.tz} has no fixed UTC offset that turns this "
            f"schedule into one UTC cron. Write it in UTC (for example {_utc_hint(cron)}), or "
            "use a zone with a fixed offset"
        )
    rule, dom_set, dow_set = utc.day_rule()
    if rule == "or":
        raise ScheduleError(
            f"schedule {s}: NCRONTAB fires only on days matching both day-of-month "
            f"{utc.fields[2]} and day-of-week {utc.fields[4]}, where unix cron fires on either. "
            f"Use two functions: '{_with(utc, 4, '*')}' and '{_with(utc, 2, '*')}'"
        )
    dom = "*" if dom_set == FULL[2] else _field(utc, 2)
    dow = format_values(dow_set, 0, 6)
    return f"0 {_field(utc, 0)} {_field(utc, 1)} {dom} {_field(utc, 3)} {dow}"


def from_ncrontab(expr: str) -> Schedule:
    """The Schedule (UTC) an Azure NCRONTAB expression means: six fields seconds first, or five.

    Raises `ScheduleError` when unix cron cannot say it: seconds other than 0, or day-of-month and
    day-of-week both restricted (NCRONTAB ANDs them).
    """
    fields = expr.split()
    if len(fields) == 6:
        if fields[0] not in ("0", "00"):
            raise ScheduleError(
                f"NCRONTAB {expr!r}: seconds {fields[0]!r} cannot be expressed; polyfn schedules "
                "fire on whole minutes (use 0)"
            )
        fields = fields[1:]
    elif len(fields) != 5:
        raise ScheduleError(
            f"NCRONTAB {expr!r} has {len(fields)} fields; expected six "
            "({second} {minute} {hour} {day} {month} {day-of-week}) or five"
        )
    unix = [_unix_field(expr, i, f) for i, f in enumerate(fields)]
    schedule = Schedule.cron(" ".join(unix))
    dom, dow = schedule.values(2), schedule.values(4)
    if dom != FULL[2] and dow != FULL[4]:
        raise ScheduleError(
            f"NCRONTAB {expr!r} fires on days matching day-of-month AND day-of-week; unix cron "
            "would fire on either, so it cannot be expressed. Restrict only one of the two"
        )
    # A full field is '*' in unix, so the other day field alone decides (NCRONTAB's AND).
    unix[2] = "*" if dom == FULL[2] else unix[2]
    unix[4] = "*" if dow == FULL[4] else unix[4]
    return Schedule.cron(" ".join(unix))


def _field(s: Schedule, index: int) -> str:
    if s.fields[index] == "*":
        return "*"
    parts = []
    for item in s.items(index):
        if item.star:
            parts.append("*" if item.step == 1 else f"*/{item.step}")
        elif item.start == item.stop:
            parts.append(str(item.start))
        else:
            parts.append(f"{item.start}-{item.stop}" + (f"/{item.step}" if item.step > 1 else ""))
    return ",".join(parts)


def _unix_field(expr: str, index: int, field: str) -> str:
    """One NCRONTAB field in unix spelling: names to numbers, ``a/n`` to ``a-high/n``."""
    high = NCRONTAB_RANGES[index][1]
    out = []
    for part in field.split(","):
        span, slash, step = part.partition("/")
        if slash and not step.isdigit():
            raise ScheduleError(f"NCRONTAB {expr!r}: step {part!r} needs a whole number after /")
        if span == "*":
            out.append(part)
            continue
        a, dash, b = span.partition("-")
        start = _value(expr, index, a)
        if dash:
            text = f"{start}-{_value(expr, index, b)}"
        else:
            text = f"{start}-{high}" if slash else str(start)
        out.append(text + (f"/{step}" if slash else ""))
    return ",".join(out)


def _value(expr: str, index: int, token: str) -> int:
    low, high, names = NCRONTAB_RANGES[index]
    if token.isdigit():
        value = int(token)
        if low <= value <= high:
            return value
    elif token:
        upper = token.upper()
        for i, name in enumerate(names):
            if name.startswith(upper):
                return low + i
    raise ScheduleError(
        f"NCRONTAB {expr!r}: {token!r} is not a valid {NCRONTAB_FIELDS[index + 1]} value "
        f"({low}-{high}{', or English names' if names else ''})"
    )


def _with(s: Schedule, index: int, value: str) -> str:
    fields = list(s.fields)
    fields[index] = value
    return " ".join(fields)


def _utc_hint(s: Schedule) -> str:
    """What to write in UTC: the schedule shifted by the zone's offset on 15 January."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    offset = datetime(2025, 1, 15, tzinfo=UTC).astimezone(ZoneInfo(s.tz)).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    utc = None
    if offset is not None and hours * 3600 == offset.total_seconds():
        # Etc/GMT+5 is UTC-05:00: POSIX signs are inverted in the Etc zone names.
        zone = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
        utc = Schedule.cron(s.expression or "", zone).in_utc()
    text = f"'{utc.expression}'" if utc is not None else "its hours in UTC"
    return f"{text}, which is right while {s.tz} is at UTC{hours:+d} and off by the shift otherwise"
