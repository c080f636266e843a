"""What each cloud's expression of a Schedule looks like, what it refuses and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from croniter import croniter
from polyfn_aws._schedule import from_eventbridge, to_eventbridge
from polyfn_azure._schedule import from_ncrontab, to_ncrontab
from polyfn_gcp._schedule import from_cloud_scheduler, to_cloud_scheduler

from polyfn import Schedule, ScheduleError

# -- the neutral Schedule --------------------------------------------------------------------


def test_equal_schedules_fire_at_the_same_instants_however_spelled() -> None:
    assert Schedule.cron("0 9 * * MON-FRI") == Schedule.cron("0 9 * * 1-5")
    assert Schedule.cron("*/15 * * * *") == Schedule.cron("0,15,30,45 * * * *")
    assert Schedule.cron("0 0 * * 7") == Schedule.cron("0 0 * * sun")
    assert Schedule.cron("0 0 * jul *") == Schedule.cron("0 0 * 7 *")
    assert Schedule.cron("@daily") == Schedule.cron("0 0 * * *")
    assert Schedule.cron("0 2 * * *", "Etc/UTC") == Schedule.cron("0 2 * * *")
    assert hash(Schedule.cron("0 2 * * *", "Etc/UTC")) == hash(Schedule.cron("0 2 * * *"))
    assert Schedule.cron("0 2 * * *", "Europe/Paris") != Schedule.cron("0 2 * * *")
    assert Schedule.parse("rate(2 hours)") == Schedule.rate(minutes=120)
    assert Schedule.rate(days=1) != Schedule.cron("0 0 * * *")  # a rate counts from creation


def test_a_day_field_that_selects_every_day_is_unrestricted() -> None:
    # 1-31 leaves out no day, so only day-of-week decides (no OR with "every day").
    assert Schedule.cron("0 0 1-31 * 1") == Schedule.cron("0 0 * * 1")
    assert Schedule.cron("0 0 1,15 * 0-6") == Schedule.cron("0 0 1,15 * *")
    assert Schedule.cron("0 0 */2 * 1").day_rule()[0] == "or"  # */2 leaves out even days


def test_cron_errors_say_what_is_wrong() -> None:
    with pytest.raises(ScheduleError, match="five"):
        Schedule.cron("0 0 0 * * *")
    with pytest.raises(ScheduleError, match="not portable"):
        Schedule.cron("0 0 L * *")
    with pytest.raises(ScheduleError, match="not portable"):
        Schedule.cron("0 0 15W * *")
    with pytest.raises(ScheduleError, match="not portable"):
        Schedule.cron("0 0 ? * 1#2")
    with pytest.raises(ScheduleError, match=r"runs backwards.*5-6,0-1"):
        Schedule.cron("0 0 * * 5-1")
    with pytest.raises(ScheduleError, match="outside 0-23"):
        Schedule.cron("0 24 * * *")
    with pytest.raises(ScheduleError, match="IANA"):
        Schedule.cron("0 0 * * *", "Mars/Olympus")


def test_in_utc_shifts_fixed_offset_zones_only() -> None:
    tokyo = Schedule.cron("0 9 * * 1-5", "Asia/Tokyo").in_utc()
    assert tokyo == Schedule.cron("0 0 * * 1-5")
    # 07:00 Tokyo is 22:00 UTC the day before: day-of-week rotates back by one.
    assert Schedule.cron("0 7 * * 1", "Asia/Tokyo").in_utc() == Schedule.cron("0 22 * * 0")
    assert Schedule.cron("30 9 * * *", "Asia/Kolkata").in_utc() == Schedule.cron("0 4 * * *")
    # A day-of-month cannot move back a day across month ends; a DST zone has no single offset.
    assert Schedule.cron("0 7 1 * *", "Asia/Tokyo").in_utc() is None
    assert Schedule.cron("0 9 * * *", "Europe/Paris").in_utc() is None
    # 09:00 and 10:00 in +05:30 are 03:30 and 04:30: one minute field, still a cron.
    assert Schedule.cron("0 9,10 * * *", "Asia/Kolkata").in_utc() == Schedule.cron("30 3,4 * * *")


# -- AWS EventBridge -------------------------------------------------------------------------


# Each case: the cloud, a unix cron, and its rendering there (which parses back to the same).
EXPRESSIONS = [
    ("aws", "0 9 * * MON-FRI", "cron(0 9 ? * 2-6 *)"),
    ("aws", "*/5 * * * *", "cron(0/5 * * * ? *)"),
    ("aws", "0 0 1,15 * *", "cron(0 0 1,15 * ? *)"),
    ("aws", "0 0 * * 0,7", "cron(0 0 ? * 1 *)"),
    ("aws", "15 10 * jan-mar *", "cron(15 10 * 1-3 ? *)"),
    ("aws", "0 8-18/4 * * *", "cron(0 8,12,16 * * ? *)"),
    ("aws", "0 0 1-31 * 1", "cron(0 0 ? * 2 *)"),
    ("azure", "*/5 * * * *", "0 */5 * * * *"),
    ("azure", "0 9 * * MON-FRI", "0 0 9 * * 1-5"),
    ("azure", "0 0 * * 5-7", "0 0 0 * * 0,5,6"),
    ("azure", "10-50/5 1-20/3 * jan-mar *", "0 10-50/5 1-20/3 * 1-3 *"),
    ("azure", "0 0 1-31 * 1", "0 0 0 * * 1"),
]
CODECS = {"aws": (to_eventbridge, from_eventbridge), "azure": (to_ncrontab, from_ncrontab)}


@pytest.mark.parametrize(("cloud", "unix", "rendered"), EXPRESSIONS)
def test_expressions(cloud: str, unix: str, rendered: str) -> None:
    render, parse = CODECS[cloud]
    s = Schedule.cron(unix)
    assert render(s) == rendered
    assert parse(rendered) == s


@pytest.mark.parametrize(
    ("minutes", "rate"),
    [(1, "rate(1 minute)"), (5, "rate(5 minutes)"), (60, "rate(1 hour)"), (90, "rate(90 minutes)"),
     (180, "rate(3 hours)"), (1440, "rate(1 day)"), (4320, "rate(3 days)")],
)  # fmt: skip
def test_eventbridge_rates_use_a_singular_unit_for_one(minutes: int, rate: str) -> None:
    assert to_eventbridge(Schedule.rate(minutes=minutes)) == rate
    assert from_eventbridge(rate) == Schedule.rate(minutes=minutes)


def test_eventbridge_refuses_day_of_month_or_day_of_week_and_suggests_two_schedules() -> None:
    with pytest.raises(ScheduleError) as info:
        to_eventbridge(Schedule.cron("0 12 1 * MON"))
    message = str(info.value)
    assert "OR" in message and "'?'" in message
    assert "two schedules: '0 12 1 * *' and '0 12 * * MON'" in message


def test_a_time_zone_rides_along_for_eventbridge_scheduler() -> None:
    s = Schedule.cron("0 9 * * 1-5", "Europe/Paris")
    assert to_eventbridge(s) == "cron(0 9 ? * 2-6 *)"
    assert from_eventbridge("cron(0 9 ? * 2-6 *)", "Europe/Paris") == s


def test_an_eventbridge_expression_over_256_characters_is_refused() -> None:
    s = Schedule.cron(",".join(["7"] * 150) + " * * * *")
    with pytest.raises(ScheduleError, match="256"):
        to_eventbridge(s)


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("cron(0 0 L * ? *)", "no unix cron equivalent"),
        ("cron(0 0 15W * ? *)", "no unix cron equivalent"),
        ("cron(0 0 ? * 2#1 *)", "no unix cron equivalent"),
        ("cron(0 0 ? * 6L *)", "no unix cron equivalent"),
        ("cron(0 0 * * ? 2027)", "year '2027'"),
        ("cron(0 0 * * 2 *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 0 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 0 ? * 1/2 *)", "'/' is not allowed in the day-of-week field"),
        ("cron(0 0 ? * 0 *)", "not 1-7"),
        ("cron(0 0 ? * FRI-MON *)", "runs backwards"),
        ("cron(0 0 * * ?)", "six"),
        ("rate(1 minutes)", "singular unit for 1"),
        ("rate(5 minute)", "plural"),
        ("rate(0 minutes)", "positive whole N"),
        ("rate(5 weeks)", "positive whole N"),
        ("at(2026-12-01T10:00:00)", "neither cron"),
    ],
)
def test_from_eventbridge_says_why_it_cannot_read(expression: str, why: str) -> None:
    with pytest.raises(ScheduleError, match=why.replace("(", r"\(").replace("?", r"\?")):
        from_eventbridge(expression)


def test_eventbridge_rendering_is_valid_for_an_independent_aws_parser() -> None:
    from aws_croniter import AwsCroniter  # type: ignore[import-untyped]

    start = datetime(2026, 1, 30, tzinfo=UTC)
    fires = AwsCroniter(to_eventbridge(Schedule.cron("0 0 31 * *"))[5:-1]).get_next(start, 3)
    assert [f.month for f in fires] == [1, 3, 5]


# -- Azure NCRONTAB --------------------------------------------------------------------------


def test_ncrontab_reads_names_by_prefix_and_five_fields() -> None:
    assert from_ncrontab("0 30 9 * Jan Mon") == Schedule.cron("30 9 * 1 1")
    assert from_ncrontab("0 0 12 * * Tu-Th") == Schedule.cron("0 12 * * 2-4")
    assert from_ncrontab("0 0 12 * * Monday") == Schedule.cron("0 12 * * 1")
    assert from_ncrontab("*/10 * * * *") == Schedule.cron("*/10 * * * *")


def test_ncrontab_renders_fixed_offset_zones_in_utc() -> None:
    assert to_ncrontab(Schedule.cron("0 9 * * 1-5", "Asia/Tokyo")) == "0 0 0 * * 1-5"


def test_ncrontab_refuses_a_daylight_saving_zone_and_says_what_to_write() -> None:
    with pytest.raises(ScheduleError) as info:
        to_ncrontab(Schedule.cron("0 9 * * *", "Europe/Paris"))
    message = str(info.value)
    assert "WEBSITE_TIME_ZONE" in message and "Flex Consumption" in message
    assert "'0 8 * * *'" in message  # 09:00 Paris in winter, UTC+1


def test_ncrontab_refuses_or_ed_day_fields_and_rates_with_no_cron() -> None:
    with pytest.raises(ScheduleError, match="two functions: '0 12 1 \\* \\*' and '0 12 \\* \\* 1'"):
        to_ncrontab(Schedule.cron("0 12 1 * 1"))
    with pytest.raises(ScheduleError, match=r"divides an hour.*App Service plan"):
        to_ncrontab(Schedule.rate(minutes=7))
    assert to_ncrontab(Schedule.rate(minutes=15)) == "0 */15 * * * *"
    assert to_ncrontab(Schedule.rate(hours=6)) == "0 0 */6 * * *"


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("30 0 9 * * *", "seconds '30'"),
        ("*/10 * * * * *", "seconds"),
        ("0 0 0 1 * Mon", "day-of-month AND day-of-week"),
        ("0 0 0 * * 7", "'7' is not a valid day-of-week"),
        ("0 0 0 * * Funday", "not a valid day-of-week"),
        ("0 0 25 * * *", "not a valid hour"),
        ("00:05:00", "1 fields"),
        ("0 0 * *", "4 fields"),
    ],
)
def test_from_ncrontab_says_why_it_cannot_read(expression: str, why: str) -> None:
    with pytest.raises(ScheduleError, match=why.replace("*", r"\*")):
        from_ncrontab(expression)


# -- Cloud Scheduler -------------------------------------------------------------------------


def test_cloud_scheduler_keeps_the_cron_and_its_time_zone() -> None:
    s = Schedule.cron("0 9 * * mon-fri", "Europe/Paris")
    assert to_cloud_scheduler(s) == ("0 9 * * 1-5", "Europe/Paris")
    assert from_cloud_scheduler("0 9 * * MON-FRI", "Europe/Paris") == s
    assert from_cloud_scheduler("0 9 * * 1-5", "Etc/UTC") == Schedule.cron("0 9 * * 1-5")


def test_cloud_scheduler_spells_or_ed_day_fields_unambiguously() -> None:
    # OR'ed with a stepped '*': written as the range, so no cron reads it as "unrestricted".
    assert to_cloud_scheduler(Schedule.cron("0 0 */2 * 1")) == ("0 0 1-31/2 * 1", "UTC")
    # A day field selecting every day is '*', so no cron ORs it with the other.
    assert to_cloud_scheduler(Schedule.cron("0 0 1-31 * 1")) == ("0 0 * * 1", "UTC")
    assert to_cloud_scheduler(Schedule.cron("5/15 * * * *")) == ("5-59/15 * * * *", "UTC")
    # Read back, the ambiguous spellings are refused rather than guessed.
    for cron in ("0 0 */2 * 1", "0 0 1 * 0-6", "0 0 1-31 * 1"):
        with pytest.raises(ScheduleError, match="disagree"):
            from_cloud_scheduler(cron, "UTC")


def test_cloud_scheduler_rates() -> None:
    assert to_cloud_scheduler(Schedule.rate(minutes=30)) == ("*/30 * * * *", "UTC")
    assert to_cloud_scheduler(Schedule.rate(days=7)) == ("0 0 * * 0", "UTC")
    with pytest.raises(ScheduleError, match=r"only unix cron.*divides an hour"):
        to_cloud_scheduler(Schedule.rate(minutes=45))
    with pytest.raises(ScheduleError, match="divides an hour"):
        to_cloud_scheduler(Schedule.rate(days=2))


def test_cloud_scheduler_or_semantics_match_croniter() -> None:
    cron, _ = to_cloud_scheduler(Schedule.cron("0 0 1 * SAT"))
    it = croniter(cron, datetime(2026, 8, 28, tzinfo=UTC))
    days = [it.get_next(datetime).strftime("%a %d") for _ in range(3)]
    assert days == ["Sat 29", "Tue 01", "Sat 05"]  # the 1st OR a Saturday


def test_cloud_scheduler_refuses_what_unix_cron_cannot_say() -> None:
    with pytest.raises(ScheduleError, match="not portable"):
        from_cloud_scheduler("0 0 L * *", "UTC")
    with pytest.raises(ScheduleError, match="no seconds"):
        from_cloud_scheduler("0 0 0 * * *", "UTC")
    with pytest.raises(ScheduleError, match="IANA"):
        from_cloud_scheduler("0 0 * * *", "Eastern Standard Time")
