"""The three renderings of a Schedule fire at the same instants as the Schedule itself.

For a seeded set of generated schedules, the next 100 fire times of the neutral unix cron (croniter,
day-of-month OR day-of-week) must equal those of
- the Cloud Scheduler cron in its time zone (croniter),
- the Azure NCRONTAB (croniter's six-field seconds-first form with day_or=False, which is how
  NCrontab reads the day fields: it ANDs them), compared in UTC,
- the EventBridge cron (aws-croniter, an independent AWS cron evaluator; pyawscron, the first
  candidate, raises ValueError for day-of-month 29-31 in a month without that day).
A schedule a cloud refuses must be one it truly cannot express, and every rendering must parse
back to an equal Schedule.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aws_croniter import AwsCroniter  # type: ignore[import-untyped]
from croniter import croniter
from croniter.croniter import CroniterBadDateError
from polyfn_aws._schedule import from_eventbridge, to_eventbridge
from polyfn_azure._schedule import from_ncrontab, to_ncrontab
from polyfn_gcp._schedule import from_cloud_scheduler, to_cloud_scheduler

from polyfn import Schedule, ScheduleError
from polyfn._schedule import FULL, expand_field

FIRES = 100
SEED = 20261127
UTC_SCHEDULES = 100  # per chunk; chunks run in parallel under xdist
UTC_CHUNKS = 6
ZONED_SCHEDULES = 80  # per chunk
ZONED_CHUNKS = 2
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# Fixed-offset zones (exact on Azure), including half- and quarter-hour offsets, and DST zones.
ZONES = (
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Etc/GMT+5",
    "America/Bogota",
    "America/New_York",
    "Europe/Paris",
    "Australia/Adelaide",
)


def _value(rng: random.Random, index: int, low: int, high: int) -> str:
    v = rng.randint(low, high)
    if index == 3 and rng.random() < 0.3:
        name = MONTHS[v - 1]
        return name.lower() if rng.random() < 0.3 else name
    if index == 4:
        if v == 0 and rng.random() < 0.3:
            return "7"  # unix: Sunday again
        if rng.random() < 0.3:
            return DAYS[v % 7]
    return str(v)


def _part(rng: random.Random, index: int, low: int, high: int) -> str:
    kind = rng.choice(("value", "value", "range", "star-step", "range-step", "value-step"))
    if kind == "value":
        return _value(rng, index, low, high)
    a, b = sorted(rng.sample(range(low, high + 1), 2))
    if kind == "range":
        return f"{a}-{b}"
    step = rng.randint(2, max(2, (high - low) // 2))
    if kind == "star-step":
        return f"*/{step}"
    if kind == "range-step":
        return f"{a}-{b}/{step}"
    return f"{a}/{step}"


def _field(rng: random.Random, index: int) -> str:
    low, high = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))[index]
    if rng.random() < (0.55 if index >= 2 else 0.2):
        return "*"
    if index == 2 and rng.random() < 0.8:
        high = 28  # keep most schedules firing every month; 29-31 still come up
    return ",".join(_part(rng, index, low, high) for _ in range(rng.choice((1, 1, 1, 2, 3))))


def _schedules(seed: int, count: int) -> list[str]:
    """Random five-field crons. A day field that selects every day is written ``*``: crons read
    spellings like ``1-31`` or ``0-5,3-6`` next to a restricted other day field differently
    (croniter ORs the second, not the first), so the neutral model pins them down and
    test_rendering checks that rule separately."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        fields = [_field(rng, i) for i in range(5)]
        for i in (2, 4):
            if expand_field(fields[i], i) == FULL[i]:
                fields[i] = "*"
        out.append(" ".join(fields))
    return out


def _starts(seed: int) -> random.Random:
    return random.Random(seed + 1)


def _start(rng: random.Random) -> datetime:
    # Anywhere in 2026-2029 (2028 is a leap year), on a minute boundary.
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(4 * 365 * 1440))


def _unix_fires(expr: str, start: datetime, **kw: object) -> list[datetime]:
    it = croniter(expr, start, max_years_between_matches=60, **kw)
    return [it.get_next(datetime).astimezone(UTC) for _ in range(FIRES)]


def _eventbridge_fires(expr: str, start: datetime) -> list[datetime]:
    assert expr.startswith("cron(") and expr.endswith(")")
    fires: list[datetime] = AwsCroniter(expr[5:-1]).get_next(start, FIRES)
    return fires


def _ncrontab_fires(expr: str, start: datetime) -> list[datetime]:
    return _unix_fires(expr, start, second_at_beginning=True, day_or=False)


ANDING_CLOUDS = (
    ("aws", to_eventbridge, _eventbridge_fires, from_eventbridge, "two schedules"),
    ("azure", to_ncrontab, _ncrontab_fires, from_ncrontab, "two functions"),
)


@pytest.mark.parametrize("chunk", range(UTC_CHUNKS))
def test_utc_schedules_fire_at_the_same_instants_on_every_cloud(chunk: int) -> None:
    rendered = {"aws": 0, "azure": 0, "gcp": 0}
    refused = {"aws": 0, "azure": 0}
    never = 0
    seed = SEED + 10 * chunk
    starts = _starts(seed)
    for expr in _schedules(seed, UTC_SCHEDULES):
        s = Schedule.cron(expr)
        start = _start(starts)
        try:
            expected = _unix_fires(expr, start)
        except CroniterBadDateError:
            never += 1  # e.g. day 30 in February only: no cloud fires it either
            continue

        cron, tz = to_cloud_scheduler(s)
        assert tz == "UTC"
        assert _unix_fires(cron, start) == expected, (expr, cron)
        assert from_cloud_scheduler(cron, tz) == s
        rendered["gcp"] += 1

        # The AND-only clouds: each either renders exactly or refuses the OR'ed-days case.
        for cloud, render, fires_of, parse, advice in ANDING_CLOUDS:
            try:
                text = render(s)
            except ScheduleError as exc:
                assert s.day_rule()[0] == "or", (cloud, expr, exc)
                assert advice in str(exc)
                refused[cloud] += 1
            else:
                assert fires_of(text, start) == expected, (cloud, expr, text)
                assert parse(text) == s, (cloud, expr, text)
                rendered[cloud] += 1

    # The generated set exercises both outcomes, and refusals are the OR'ed-days case only.
    print(f"chunk {chunk}: rendered {rendered}, refused {refused}, never fires {never}")
    assert never < UTC_SCHEDULES // 20
    assert rendered["aws"] > UTC_SCHEDULES // 2 and refused["aws"] > UTC_SCHEDULES // 20
    assert rendered["azure"] == rendered["aws"] and refused["azure"] == refused["aws"]


@pytest.mark.parametrize("chunk", range(ZONED_CHUNKS))
def test_zoned_schedules_agree_in_their_zone_and_azure_takes_only_exact_utc_forms(
    chunk: int,
) -> None:
    seed = SEED + 1000 + 10 * chunk
    rng = random.Random(seed)
    starts = _starts(seed + 2)
    exact = refused = 0
    for expr in _schedules(seed + 3, ZONED_SCHEDULES):
        zone = rng.choice(ZONES)
        s = Schedule.cron(expr, zone)
        start = _start(starts)
        try:
            expected = _unix_fires(expr, start.astimezone(ZoneInfo(zone)))
        except CroniterBadDateError:
            continue

        cron, tz = to_cloud_scheduler(s)
        assert tz == zone
        assert _unix_fires(cron, start.astimezone(ZoneInfo(tz))) == expected, (expr, zone)
        assert from_cloud_scheduler(cron, tz) == s

        # EventBridge Scheduler reads the same expression in ScheduleExpressionTimezone = s.tz.
        if s.day_rule()[0] == "and":
            assert from_eventbridge(to_eventbridge(s), zone) == s

        try:
            nc = to_ncrontab(s)
        except ScheduleError as exc:
            assert "WEBSITE_TIME_ZONE" in str(exc) or "two functions" in str(exc), exc
            assert s.in_utc() is None or s.in_utc().day_rule()[0] == "or"  # type: ignore[union-attr]
            refused += 1
        else:
            fires = _ncrontab_fires(nc, start)
            assert fires == expected, (expr, zone, nc)
            exact += 1
    assert exact > ZONED_SCHEDULES // 10 and refused > ZONED_SCHEDULES // 10


RATES = [*range(1, 61), 90, 120, 180, 240, 360, 420, 480, 720, 1440, 2880, 4320, 10080]


@pytest.mark.parametrize("minutes", RATES)
def test_rates(minutes: int) -> None:
    s = Schedule.rate(minutes=minutes)
    eb = to_eventbridge(s)
    assert from_eventbridge(eb) == s
    n, unit = eb[5:-1].split(" ")
    assert int(n) * {"minute": 1, "hour": 60, "day": 1440}[unit.rstrip("s")] == minutes
    assert unit.endswith("s") == (n != "1")

    cron = s.as_cron()
    if cron is None:
        with pytest.raises(ScheduleError, match="no exact cron"):
            to_ncrontab(s)
        with pytest.raises(ScheduleError, match="no exact cron"):
            to_cloud_scheduler(s)
        # Truly no cron: the minute-of-day pattern of a fixed interval does not repeat daily
        # on whole hours (n does not divide 60) nor does it repeat at all (n does not divide 1440).
        assert 60 % minutes != 0 and (minutes % 60 != 0 or 1440 % minutes != 0)
        return
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    nc = to_ncrontab(s)
    gcp, tz = to_cloud_scheduler(s)
    for fires in (
        _ncrontab_fires(nc, start),
        _unix_fires(gcp, start.astimezone(ZoneInfo(tz))),
    ):
        gaps = {b - a for a, b in itertools.pairwise(fires)}
        assert gaps == {timedelta(minutes=minutes)}
    assert from_ncrontab(nc) == cron
    assert from_cloud_scheduler(gcp, tz) == cron
