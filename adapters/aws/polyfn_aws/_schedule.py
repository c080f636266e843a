"""A `Schedule` as an Amazon EventBridge schedule expression, and back.

EventBridge cron has six fields (minutes hours day-of-month month day-of-week year), numbers
day-of-week 1-7 from Sunday, needs ``?`` in exactly one of the two day fields (so it ANDs them,
where unix cron ORs two restricted day fields), has no seconds, and knows ``L``, ``W`` and ``#``,
which unix cron cannot say. A rate is ``rate(N unit)``, counted from when the rule is created.
"""

from __future__ import annotations

from polyfn._errors import ScheduleError
from polyfn._schedule import CRON_FIELDS, FULL, Schedule, format_values

# Cron expressions reference:
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
# field -> (low, high, wildcards EventBridge accepts besides values, ',' and '-').
# Day-of-week takes no '/' (the reference lists ", - * ? L #"); the year field must stay '*'
# because a polyfn Schedule has no year.
CRON_GRAMMAR: tuple[tuple[str, int, int, str], ...] = (
    ("minutes", 0, 59, "*/"),
    ("hours", 0, 23, "*/"),
    ("day-of-month", 1, 31, "*/?LW"),
    ("month", 1, 12, "*/"),
    ("day-of-week", 1, 7, "*?L#"),
    ("year", 1970, 2199, "*/"),
)
# Day-of-week: 1-7 or SUN-SAT, Sunday first (same page).
AWS_DAY_NAMES = {
    name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))
}
# Rate expressions reference:
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html
# "If the value is equal to 1, then the unit must be singular. If the value is greater than 1,
# the unit must be plural." Valid units: minute(s), hour(s), day(s); a positive whole value.
RATE_UNITS = {"minute": 1, "hour": 60, "day": 1440}
# PutRule and Scheduler's CreateSchedule: ScheduleExpression is at most 256 characters (the
# "max": 256 of both services' API models, as botocore ships them).
# https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
# https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
MAX_EXPRESSION = 256


def to_eventbridge(s: Schedule) -> str:
    """The EventBridge schedule expression, ``cron(...)`` or ``rate(...)``, for `s`.

    A rate counts from the rule's creation. EventBridge Scheduler's own guide lists the rate
    units only in the plural; the rules reference (singular for 1) is followed here.
    The expression is read in `s.tz`. EventBridge *rules* evaluate cron in UTC only, so for a
    schedule whose tz is not UTC the builder must create an EventBridge Scheduler schedule with
    ``ScheduleExpressionTimezone = s.tz`` (same expression grammar) instead of a rule.
    Raises `ScheduleError` when EventBridge cannot say it: a day-of-month and a day-of-week that
    are both restricted (unix cron fires on either; EventBridge allows only one).
    """
    if s.kind == "rate":
        return _rate(s.rate_minutes or 0)
    rule, dom_set, dow_set = s.day_rule()
    if rule == "or":
        raise ScheduleError(
            f"schedule {s}: EventBridge cannot fire on day-of-month {s.fields[2]} OR day-of-week "
            f"{s.fields[4]} (unix cron ORs them; EventBridge needs '?' in one of the two). Use two "
            f"schedules: '{_with(s, 4, '*')}' and '{_with(s, 2, '*')}'"
        )
    if dow_set == FULL[4]:
        dom, dow = ("*" if dom_set == FULL[2] else _field(s, 2)), "?"
    else:  # day_rule() is "and": day-of-month is full here, so '?' loses nothing
        dom, dow = "?", format_values({v + 1 for v in dow_set}, 1, 7)
    expression = f"cron({_field(s, 0)} {_field(s, 1)} {dom} {_field(s, 3)} {dow} *)"
    if len(expression) > MAX_EXPRESSION:
        raise ScheduleError(
            f"schedule {s}: its EventBridge form has {len(expression)} characters, over the "
            f"{MAX_EXPRESSION} EventBridge accepts; use steps (*/n) or ranges instead of long lists"
        )
    return expression


def from_eventbridge(expr: str, tz: str = "UTC") -> Schedule:
    """The Schedule an EventBridge ``cron(...)``/``rate(...)`` expression means, read in `tz`.

    Raises `ScheduleError` for what EventBridge itself rejects and for what unix cron cannot say
    (``L``, ``W``, ``#``, a restricted year).
    """
    text = expr.strip()
    if text.startswith("rate(") and text.endswith(")"):
        return _parse_rate(expr, text[5:-1])
    if not (text.startswith("cron(") and text.endswith(")")):
        raise ScheduleError(
            f"EventBridge schedule {expr!r} is neither cron(...) nor rate(...) "
            "(at(...) one-time schedules are not recurring)"
        )
    fields = text[5:-1].split()
    if len(fields) != 6:
        raise ScheduleError(
            f"EventBridge schedule {expr!r} has {len(fields)} fields; EventBridge cron has six "
            "(minutes hours day-of-month month day-of-week year)"
        )
    for i, field in enumerate(fields):
        _check_field(expr, i, field)
    if fields[5] != "*":
        raise ScheduleError(
            f"EventBridge schedule {expr!r}: year {fields[5]!r} cannot be expressed; "
            "polyfn schedules repeat every year (use '*')"
        )
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(
            f"EventBridge schedule {expr!r}: exactly one of day-of-month and day-of-week must be "
            "'?' (EventBridge rejects both or neither)"
        )
    unix = [
        _unix_part(fields[0], 0),
        _unix_part(fields[1], 1),
        "*" if dom == "?" else _unix_part(dom, 2),
        _unix_part(fields[3], 3),
        "*" if dow in ("?", "*") else format_values({v - 1 for v in _dow_values(expr, dow)}, 0, 6),
    ]
    return Schedule.cron(" ".join(unix), tz)


def _rate(minutes: int) -> str:
    for unit, size in sorted(RATE_UNITS.items(), key=lambda kv: -kv[1]):
        if minutes % size == 0:
            n = minutes // size
            return f"rate({n} {unit}{'' if n == 1 else 's'})"
    raise AssertionError("a minute divides every rate")


def _parse_rate(expr: str, inner: str) -> Schedule:
    value, _, unit = inner.strip().partition(" ")
    unit = unit.strip()
    singular = unit[:-1] if unit.endswith("s") else unit
    if not value.isdigit() or int(value) < 1 or singular not in RATE_UNITS:
        raise ScheduleError(
            f"EventBridge schedule {expr!r}: a rate is rate(N minute|minutes|hour|hours|day|days) "
            "with a positive whole N"
        )
    n = int(value)
    if (n == 1) != (unit == singular):
        raise ScheduleError(
            f"EventBridge schedule {expr!r}: EventBridge needs a singular unit for 1 and a plural "
            f"one otherwise (rate({n} {singular}{'' if n == 1 else 's'}))"
        )
    return Schedule.rate(minutes=n * RATE_UNITS[singular])


def _field(s: Schedule, index: int) -> str:
    """Minutes, hours, day-of-month or month in EventBridge's spelling of the same values."""
    if s.fields[index] == "*":
        return "*"
    _, low, high = CRON_FIELDS[index]
    parts: list[str] = []
    for item in s.items(index):
        last = item.values()[-1]
        if item.step == 1:
            parts.append(str(item.start) if item.start == item.stop else f"{item.start}-{last}")
        elif last + item.step > high:
            # a/n runs to the end of the field, as EventBridge's "1/10" example does.
            parts.append(f"{item.start}/{item.step}")
        else:
            # a-b/n that stops short of the end: EventBridge documents '/' only as start/step.
            parts.append(format_values(frozenset(item.values()), low, high))
    return ",".join(parts)


def _with(s: Schedule, index: int, value: str) -> str:
    fields = list(s.fields)
    fields[index] = value
    return " ".join(fields)


def _check_field(expr: str, index: int, field: str) -> None:
    name, _, _, wildcards = CRON_GRAMMAR[index]
    for part in field.split(","):
        bad = {c for c in part if not (c.isalnum() or c == "-")} - set(wildcards)
        if bad:
            raise ScheduleError(
                f"EventBridge schedule {expr!r}: {''.join(sorted(bad))!r} is not allowed in the "
                f"{name} field {field!r}"
            )
        upper = part.upper()
        if part != "?" and (
            "#" in part or upper == "L" or (upper.endswith(("L", "W")) and upper[:-1].isdigit())
        ):
            raise ScheduleError(
                f"EventBridge schedule {expr!r}: {part!r} in the {name} field (L, W, #) has no "
                "unix cron equivalent; write the days explicitly or handle it in the function"
            )
        if part in ("?", "*"):
            if part == "?" and index not in (2, 4):
                raise ScheduleError(
                    f"EventBridge schedule {expr!r}: '?' is allowed only in day-of-month or "
                    "day-of-week"
                )
            if len(field.split(",")) > 1:
                raise ScheduleError(f"EventBridge schedule {expr!r}: {part!r} cannot be in a list")


def _unix_part(field: str, index: int) -> str:
    """An EventBridge minutes/hours/day-of-month/month field in unix spelling (a/n -> a-high/n)."""
    high = CRON_FIELDS[index][2]
    out = []
    for part in field.split(","):
        span, slash, step = part.partition("/")
        if slash and span == "*":
            out.append(f"*/{step}")
        elif slash and "-" not in span:
            out.append(f"{span}-{high}/{step}")
        else:
            out.append(part)
    return ",".join(out)


def _dow_values(expr: str, field: str) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        a, dash, b = part.partition("-")
        start = _dow_number(expr, a)
        stop = _dow_number(expr, b) if dash else start
        if start > stop:
            raise ScheduleError(
                f"EventBridge schedule {expr!r}: day-of-week range {part!r} runs backwards "
                "(write it as a list)"
            )
        values.update(range(start, stop + 1))
    return values


def _dow_number(expr: str, token: str) -> int:
    upper = token.upper()
    if upper in AWS_DAY_NAMES:
        return AWS_DAY_NAMES[upper]
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token)
    raise ScheduleError(
        f"EventBridge schedule {expr!r}: day-of-week {token!r} is not 1-7 (SUN=1) or SUN-SAT"
    )
