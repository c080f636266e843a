"""`Schedule`: when a timer function fires, as unix cron in a time zone (UTC by default) or a rate.

The neutral form is the five-field unix cron that Cloud Scheduler and crontab read (minute, hour,
day of month, month, day of week; day-of-month and day-of-week OR'ed when both are restricted, as
in Vixie cron), or a fixed rate in whole minutes. Each adapter renders it into its cloud's own
expression and refuses, with a `ScheduleError` that says why, what its cloud cannot express.
"""

from __future__ import annotations

import re

from polyfn._errors import ScheduleError

# (name, low, high) of the five unix cron fields; crontab(5).
CRON_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
)
MONTH_NAMES = {
    name: i + 1
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
DAY_NAMES = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_NAMES: tuple[dict[str, int], ...] = ({}, {}, {}, MONTH_NAMES, DAY_NAMES)

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.I)
_ITEM = re.compile(r"^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(\d+))?$")


def _number(token: str, index: int, expr: str) -> int:
    name, low, high = CRON_FIELDS[index]
    upper = token.upper()
    if upper in _NAMES[index]:
        return _NAMES[index][upper]
    if not token.isdigit():
        raise ScheduleError(
            f"schedule {expr!r}: {token!r} is not a valid {name} value "
            f"(use {low}-{high}{' or names' if _NAMES[index] else ''})"
        )
    value = int(token)
    if not low <= value <= high:
        raise ScheduleError(f"schedule {expr!r}: {name} {value} is outside {low}-{high}")
    return value


def expand_field(field: str, index: int, expr: str = "") -> frozenset[int]:
    """The set of values a unix cron field selects (day-of-week 7 folded to 0)."""
    name, low, high = CRON_FIELDS[index]
    values: set[int] = set()
    for item in field.split(","):
        m = _ITEM.match(item)
        if m is None:
            raise ScheduleError(
                f"schedule {expr!r}: {item!r} in the {name} field is not unix cron "
                "(use *, a value, a range a-b, a list a,b or a step */n; L, W, # and ? are not "
                "portable)"
            )
        span, step_text = m.group(1), m.group(2)
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleError(f"schedule {expr!r}: step /{step} in the {name} field must be >= 1")
        if span == "*":
            start, stop = low, high if index != 4 else 6
        elif "-" in span:
            a, b = span.split("-", 1)
            start, stop = _number(a, index, expr), _number(b, index, expr)
            if start > stop:
                raise ScheduleError(
                    f"schedule {expr!r}: range {span} in the {name} field runs backwards"
                )
        else:
            start = _number(span, index, expr)
            stop = (high if index != 4 else 6) if step_text else start
        values.update(range(start, stop + 1, step))
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


class Schedule:
    """A cron expression in a time zone, or a fixed rate; immutable and comparable."""

    __slots__ = ("expression", "fields", "kind", "rate_minutes", "tz")

    def __init__(
        self,
        kind: str,
        *,
        expression: str | None = None,
        fields: tuple[str, ...] = (),
        tz: str = "UTC",
        rate_minutes: int | None = None,
    ) -> None:
        self.kind = kind
        self.expression = expression
        self.fields = fields
        self.tz = tz
        self.rate_minutes = rate_minutes

    @classmethod
    def cron(cls, expression: str, tz: str = "UTC") -> Schedule:
        """A five-field unix cron expression (or @daily-style macro) evaluated in time zone `tz`."""
        text = " ".join(expression.split())
        text = _MACROS.get(text.lower(), text)
        fields = tuple(text.split(" "))
        if len(fields) != 5:
            raise ScheduleError(
                f"schedule {expression!r} has {len(fields)} fields; unix cron has five "
                "(minute hour day-of-month month day-of-week) and no seconds"
            )
        for i, field in enumerate(fields):
            expand_field(field, i, expression)
        _check_tz(tz)
        return cls("cron", expression=text, fields=fields, tz=tz)

    @classmethod
    def rate(cls, *, minutes: int = 0, hours: int = 0, days: int = 0) -> Schedule:
        """Every so many minutes, hours or days (whole minutes: no cloud schedules seconds)."""
        total = minutes + 60 * hours + 1440 * days
        if total < 1:
            raise ScheduleError("a rate must be at least one minute")
        return cls("rate", rate_minutes=total)

    @classmethod
    def parse(cls, value: str | Schedule, tz: str | None = None) -> Schedule:
        """A Schedule from a cron string, a ``rate(5 minutes)`` string, or a Schedule."""
        if isinstance(value, Schedule):
            if tz is not None and value.kind == "cron" and tz != value.tz:
                return cls.cron(value.expression or "", tz)
            return value
        m = _RATE.match(value.strip())
        if m:
            n, unit = int(m.group(1)), m.group(2).lower().rstrip("s")
            return cls.rate(**{unit + "s": n})
        return cls.cron(value, tz or "UTC")

    def values(self, index: int) -> frozenset[int]:
        """The values the cron field at `index` (0 minute .. 4 day-of-week) selects."""
        if self.kind != "cron":
            raise ScheduleError("a rate schedule has no cron fields")
        return expand_field(self.fields[index], index, self.expression or "")

    @property
    def day_of_month_restricted(self) -> bool:
        return self.kind == "cron" and self.fields[2] != "*"

    @property
    def day_of_week_restricted(self) -> bool:
        return self.kind == "cron" and self.fields[4] != "*"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return (self.kind, self.expression, self.tz, self.rate_minutes) == (
            other.kind,
            other.expression,
            other.tz,
            other.rate_minutes,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.expression, self.tz, self.rate_minutes))

    def __str__(self) -> str:
        if self.kind == "rate":
            n = self.rate_minutes or 0
            if n % 1440 == 0:
                return f"rate({n // 1440} day{'s' if n != 1440 else ''})"
            if n % 60 == 0:
                return f"rate({n // 60} hour{'s' if n != 60 else ''})"
            return f"rate({n} minute{'s' if n != 1 else ''})"
        expression = self.expression or ""
        return expression if self.tz == "UTC" else f"{expression} ({self.tz})"

    def __repr__(self) -> str:
        return f"Schedule({self!s})"


def _check_tz(tz: str) -> None:
    if tz == "UTC":
        return
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(tz)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError for malformed keys
        raise ScheduleError(f"time zone {tz!r} is not an IANA time zone name") from exc
