"""`next_fire` against croniter, an independent cron evaluator, over many expressions."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from polyfn import Schedule
from polyfn._local._cron import next_fire

START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)


def _generated(count: int) -> list[str]:
    rng = random.Random(7)
    ranges = [(0, 59), (0, 23), (1, 28), (1, 12), (0, 6)]
    exprs = []
    for _ in range(count):
        fields = []
        for low, high in ranges:
            shape = rng.choice(["*", "value", "range", "step", "list", "rangestep"])
            a, b = sorted(rng.sample(range(low, high + 1), 2))
            fields.append(
                {
                    "*": "*",
                    "value": str(a),
                    "range": f"{a}-{b}",
                    "step": f"*/{rng.randint(2, 9)}",
                    "list": f"{a},{b}",
                    "rangestep": f"{a}-{b}/{rng.randint(2, 4)}",
                }[shape]
            )
        exprs.append(" ".join(fields))
    return exprs


FIXED = [
    "*/5 * * * *",
    "0 2 * * *",
    "15 14 1 * *",
    "0 0 * * 1-5",
    "0 0 13 * 5",
    "30 4 1,15 * 3",
    "0 0 29 2 *",
    "5 4 * * SUN",
    "0 */2 * JAN-MAR *",
    "59 23 31 12 *",
    "0 12 * * 0,6",
    "@hourly",
    "0 0 * * 7",
]


@pytest.mark.parametrize("expr", FIXED + _generated(150))
def test_next_fire_times_agree_with_croniter_in_utc(expr: str) -> None:
    schedule = Schedule.cron(expr)
    # polyfn ORs the day fields when both leave out some day (a "0-6" day-of-week leaves out
    # none); crontab(5) and croniter decide by whether the field is written "*". Written as "*",
    # an unrestricted day field means the same to both.
    fields = list(schedule.fields)
    if not schedule.day_of_month_restricted:
        fields[2] = "*"
    if not schedule.day_of_week_restricted:
        fields[4] = "*"
    reference = croniter(" ".join(fields), START)
    when = START
    for _ in range(25):
        when = next_fire(schedule, when)
        assert when == reference.get_next(datetime), expr


@pytest.mark.parametrize(
    ("expr", "tz"),
    list(
        itertools.product(
            ["0 9 * * 1-5", "*/30 * * * *", "0 1 * * *"],
            ["Europe/Berlin", "America/New_York", "Asia/Kolkata"],
        )
    ),
)
def test_time_zones_follow_wall_clock_across_dst(expr: str, tz: str) -> None:
    schedule = Schedule.cron(expr, tz)
    zone = ZoneInfo(tz)
    reference = croniter(expr, START.astimezone(zone))
    when = START
    previous_wall = None
    for _ in range(400):
        expected = reference.get_next(datetime)
        wall = expected.replace(tzinfo=None, fold=0)
        if wall == previous_wall:
            # croniter fires a wall time that the fall-back hour repeats twice; polyfn fires it
            # once, at its first occurrence, as crontab(5) does.
            expected = reference.get_next(datetime)
            wall = expected.replace(tzinfo=None, fold=0)
        previous_wall = wall
        when = next_fire(schedule, when)
        assert when == expected.astimezone(UTC)
        assert when.tzinfo is UTC


def test_rate_counts_from_the_origin() -> None:
    origin = datetime(2026, 1, 1, 12, 0, 7, tzinfo=UTC)
    schedule = Schedule.rate(minutes=5)
    assert next_fire(schedule, origin, origin=origin) == origin + timedelta(minutes=5)
    later = origin + timedelta(minutes=12)
    assert next_fire(schedule, later, origin=origin) == origin + timedelta(minutes=15)


def test_an_impossible_date_never_fires() -> None:
    with pytest.raises(ValueError, match="never fires"):
        next_fire(Schedule.cron("0 0 30 2 *"), START)
