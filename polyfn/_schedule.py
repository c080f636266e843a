"""`Schedule`: when a timer function fires, as unix cron in a time zone (UTC by default) or a rate.

The neutral form is the five-field unix cron that Cloud Scheduler and crontab read (minute, hour,
day of month, month, day of week), or a fixed rate in whole minutes. Day-of-month and day-of-week
are OR'ed when both are restricted, as crontab(5) says. A day field is restricted when it does not
select every value (croniter's reading: ``1-31`` and ``0-6`` are unrestricted, ``*/2`` is
restricted). Crons differ on spellings like these (Vixie cron ORs ``1 * 0-6`` and ANDs ``*/2 * 1``),
so the renderers never emit them: a full day field is written ``*``, and a stepped ``*`` next to a
restricted other day field is written as the range it stands for (``1-31/2``).

Each adapter renders a Schedule into its cloud's own expression and refuses, with a
`ScheduleError` that says why and what would work, what its cloud cannot express. Two Schedules are
equal when they fire at the same instants: same kind, time zone and rate, and for cron the same
selected values and the same day-of-month/day-of-week rule, however the fields are spelled. That is
what makes ``from_X(to_X(s)) == s`` meaningful for every cloud.

This module is imported on the hot path: it uses no regexes and no dataclasses, and computes
value sets only when asked.
"""

from __future__ import annotations

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
# The values `*` selects; day-of-week 7 is Sunday again, so `*` means 0-6.
FULL: tuple[frozenset[int], ...] = (
    frozenset(range(60)),
    frozenset(range(24)),
    frozenset(range(1, 32)),
    frozenset(range(1, 13)),
    frozenset(range(7)),
)

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_RATE_UNITS = {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}
# Names that are UTC itself (tzdata's backward links): equal Schedules, whichever is written.
_UTC_ALIASES = frozenset(
    (
        "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu",
        "GMT", "Etc/GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "GMT0", "GMT+0", "GMT-0",
        "Greenwich", "Etc/Greenwich",
    )
)  # fmt: skip


class Item:
    """One comma-separated part of a cron field: ``*``, ``*/n``, ``a``, ``a-b``, ``a/n``, ``a-b/n``.

    `start`/`stop` are numbers (names resolved); `star` says the part was written ``*``.
    """

    __slots__ = ("star", "start", "step", "stop")

    def __init__(self, start: int, stop: int, step: int, star: bool) -> None:
        self.start = start
        self.stop = stop
        self.step = step
        self.star = star

    def values(self) -> range:
        return range(self.start, self.stop + 1, self.step)

    def __repr__(self) -> str:
        return f"Item({self.start}, {self.stop}, {self.step}, star={self.star})"


def _number(token: str, index: int, expr: str) -> int:
    name, low, high = CRON_FIELDS[index]
    upper = token.upper()
    if upper in _NAMES[index]:
        return _NAMES[index][upper]
    if not token.isdigit():
        raise ScheduleError(
            f"schedule {expr!r}: {token!r} is not a valid {name} value "
            f"(use {low}-{high}{' or three-letter English names' if _NAMES[index] else ''})"
        )
    value = int(token)
    if not low <= value <= high:
        raise ScheduleError(f"schedule {expr!r}: {name} {value} is outside {low}-{high}")
    return value


def parse_field(field: str, index: int, expr: str = "") -> tuple[Item, ...]:
    """The parts of unix cron field `index` (0 minute .. 4 day-of-week), validated."""
    name, low, high = CRON_FIELDS[index]
    # `*/n` and `a/n` in day-of-week run through Saturday (6), as croniter reads them; 7 only
    # when written.
    star_high = 6 if index == 4 else high
    items = []
    for part in field.split(","):
        span, slash, step_text = part.partition("/")
        if slash and not step_text.isdigit():
            raise ScheduleError(
                f"schedule {expr!r}: step {part!r} in the {name} field needs a whole number after /"
            )
        step = int(step_text) if slash else 1
        if step < 1:
            raise ScheduleError(f"schedule {expr!r}: step /{step} in the {name} field must be >= 1")
        if span == "*":
            items.append(Item(low, star_high, step, True))
            continue
        a, dash, b = span.partition("-")
        upper = span.upper()
        special = "?" in span or "#" in span or upper in ("L", "LW")
        if not a or (dash and not b) or special or (a[:-1].isdigit() and upper[-1:] in ("L", "W")):
            raise ScheduleError(
                f"schedule {expr!r}: {part!r} in the {name} field is not unix cron "
                "(use *, a value, a range a-b, a list a,b or a step */n or a-b/n; "
                "L, W, # and ? are not portable)"
            )
        start = _number(a, index, expr)
        if dash:
            stop = _number(b, index, expr)
            if start > stop:
                raise ScheduleError(
                    f"schedule {expr!r}: range {span} in the {name} field runs backwards "
                    f"(write it as two ranges, e.g. {a}-{star_high},{low}-{b})"
                )
        else:
            stop = star_high if slash else start
        items.append(Item(start, stop, step, False))
    return tuple(items)


def expand_field(field: str, index: int, expr: str = "") -> frozenset[int]:
    """The set of values a unix cron field selects (day-of-week 7 folded to 0)."""
    values: set[int] = set()
    for item in parse_field(field, index, expr):
        values.update(item.values())
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


def format_values(values: frozenset[int] | set[int], low: int, high: int) -> str:
    """A set of values as a compact cron field: ``*`` when full, else runs ``a-b`` and values."""
    ordered = sorted(values)
    if ordered == list(range(low, high + 1)):
        return "*"
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{ordered[i]}-{ordered[j]}")
        else:
            parts.extend(str(v) for v in ordered[i : j + 1])
        i = j + 1
    return ",".join(parts)


class Schedule:
    """A cron expression in a time zone, or a fixed rate; immutable and comparable by meaning."""

    __slots__ = ("_key", "expression", "fields", "kind", "rate_minutes", "tz")

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
        self._key: tuple[object, ...] | None = None

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
            parse_field(field, i, expression)
        return cls("cron", expression=text, fields=fields, tz=_check_tz(tz))

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
        text = value.strip()
        if text[:5].lower() == "rate(" and text.endswith(")"):
            n, _, unit = text[5:-1].strip().partition(" ")
            unit = unit.strip().lower()
            if not n.isdigit() or unit not in _RATE_UNITS:
                raise ScheduleError(
                    f"schedule {value!r}: a rate is 'rate(N minutes|hours|days)' with a whole N"
                )
            return cls.rate(minutes=int(n) * _RATE_UNITS[unit])
        return cls.cron(value, tz or "UTC")

    def values(self, index: int) -> frozenset[int]:
        """The values the cron field at `index` (0 minute .. 4 day-of-week) selects."""
        if self.kind != "cron":
            raise ScheduleError("a rate schedule has no cron fields")
        return expand_field(self.fields[index], index, self.expression or "")

    def items(self, index: int) -> tuple[Item, ...]:
        """The parsed parts of the cron field at `index`, as written (names resolved)."""
        if self.kind != "cron":
            raise ScheduleError("a rate schedule has no cron fields")
        return parse_field(self.fields[index], index, self.expression or "")

    @property
    def day_of_month_restricted(self) -> bool:
        """Day-of-month leaves out some day (``1-31`` is not restricted, ``*/2`` is)."""
        return self.kind == "cron" and self.values(2) != FULL[2]

    @property
    def day_of_week_restricted(self) -> bool:
        """Day-of-week leaves out some day (``0-6`` and ``0-7`` are not restricted)."""
        return self.kind == "cron" and self.values(4) != FULL[4]

    def day_rule(self) -> tuple[str, frozenset[int], frozenset[int]]:
        """How the day fields combine: ``("or", dom, dow)`` when both are restricted (a day matching
        either set fires), else ``("and", dom, dow)`` with at least one set full. Clouds that AND
        the two fields (EventBridge, NCRONTAB) can express only "and"."""
        dom, dow = self.values(2), self.values(4)
        return ("or" if dom != FULL[2] and dow != FULL[4] else "and", dom, dow)

    def as_cron(self) -> Schedule | None:
        """This rate as the clock-aligned cron that fires at the same interval, or None.

        A rate of N minutes is a cron only when N divides an hour (``*/N``), is whole hours
        dividing a day (``0 */H``), or is a day or a week: cron fields restart every hour, day and
        month, so ``*/7`` fires at :56 and then :00. Cron has no start time, so the rendering fires
        on the clock (every 5 minutes at :00, :05, ...) where a rate counts from its creation.
        """
        if self.kind == "cron":
            return self
        n = self.rate_minutes or 0
        if n == 1:
            return Schedule.cron("* * * * *")
        if n < 60 and 60 % n == 0:
            return Schedule.cron(f"*/{n} * * * *")
        if n == 60:
            return Schedule.cron("0 * * * *")
        if n % 60 == 0 and n < 1440 and 1440 % n == 0:
            return Schedule.cron(f"0 */{n // 60} * * *")
        if n == 1440:
            return Schedule.cron("0 0 * * *")
        if n == 7 * 1440:
            return Schedule.cron("0 0 * * 0")
        return None

    def in_utc(self) -> Schedule | None:
        """The same cron written in UTC, or None when no single UTC cron fires at the same instants.

        Exact when the time zone never changes its offset (Asia/Tokyo, Asia/Kolkata, Etc/GMT-3)
        and the shifted minutes and hours still form a cron field: a shift that moves some
        firings to another day is exact only when the day-of-month and month fields are ``*``
        (day-of-week is rotated). A zone with daylight saving time has two offsets, so it is None.
        """
        if self.kind != "cron" or self.tz == "UTC":
            return self
        offset = _fixed_offset_minutes(self.tz)
        if offset is None:
            return None
        hours, minutes = self.values(1), self.values(0)
        shifted = set()
        day_shifts = set()
        for h in hours:
            for m in minutes:
                t = h * 60 + m - offset
                day_shifts.add(t // 1440)
                shifted.add(t % 1440)
        new_hours = {t // 60 for t in shifted}
        new_minutes = {t % 60 for t in shifted}
        if len(new_hours) * len(new_minutes) != len(shifted):
            return None  # e.g. 09:00 and 10:30 in +05:30 cannot share one minute field
        dom, month, dow = self.fields[2], self.fields[3], self.fields[4]
        if day_shifts != {0}:
            if self.values(2) != FULL[2] or self.values(3) != FULL[3]:
                return None
            if dow != "*":
                if len(day_shifts) != 1:
                    return None
                (d,) = day_shifts
                dow = format_values({(v + d) % 7 for v in self.values(4)}, 0, 6)
        return Schedule.cron(
            " ".join(
                (
                    format_values(new_minutes, 0, 59),
                    format_values(new_hours, 0, 23),
                    dom,
                    month,
                    dow,
                )
            )
        )

    def _meaning(self) -> tuple[object, ...]:
        if self._key is None:
            if self.kind == "rate":
                self._key = ("rate", self.rate_minutes)
            else:
                self._key = (
                    "cron",
                    self.tz,
                    self.values(0),
                    self.values(1),
                    self.values(3),
                    self.day_rule(),
                )
        return self._key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self._meaning() == other._meaning()

    def __hash__(self) -> int:
        return hash(self._meaning())

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


def _check_tz(tz: str) -> str:
    if tz in _UTC_ALIASES:
        return "UTC"
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(tz)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError for malformed keys
        raise ScheduleError(f"time zone {tz!r} is not an IANA time zone name") from exc
    return tz


def _fixed_offset_minutes(tz: str) -> int | None:
    """The zone's UTC offset in minutes if it is the same every week of 2024-2060, else None.

    Weekly samples catch every daylight-saving period in tzdata (the shortest, Morocco's Ramadan
    suspension, lasts about a month). A zone whose rules change after this build needs a rebuild.
    """
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    t = datetime(2024, 1, 1, 12, tzinfo=UTC)
    end = datetime(2061, 1, 1, tzinfo=UTC)
    seen = set()
    while t < end:
        offset = t.astimezone(zone).utcoffset()
        seen.add(offset)
        if len(seen) > 1:
            return None
        t += timedelta(days=7)
    (only,) = seen
    return None if only is None else int(only.total_seconds() // 60)
