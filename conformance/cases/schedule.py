"""Neutral schedule cases: a schedule of the conformance app fires, on time or past due.

A case names the function whose schedule fired and how late the cloud delivers the tick: on time
(a second after it was due) or past due (hours late: the host was down, or the cloud retried a
failed delivery). Some clouds only know lateness by comparing the tick's time with the clock, so
a case is fired at run time: `fire()` picks the last occurrence before now minus the delay (both
conformance schedules fire every minute, so every whole minute is an occurrence). The driver
renders that tick and returns its due time in ``Outcome.result["scheduled_time"]``; what the
handler must see is computed from that time and the case alone: its own name, the scheduled time
and whether the tick is past due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from conformance.app_events import (
    CRON_FUNCTION,
    RATE_FUNCTION,
    RATE_MINUTES,
    differences,
    iso,
)

if TYPE_CHECKING:
    from conformance._spec import Outcome, Target

# How far apart two occurrences are, per conformance schedule (clouds that keep a schedule
# status report the previous one).
PERIOD = {CRON_FUNCTION: timedelta(minutes=1), RATE_FUNCTION: timedelta(minutes=RATE_MINUTES)}


@dataclass(frozen=True)
class Tick:
    """One concrete firing of a case: when it was due, and the occurrence before it."""

    scheduled_time: datetime
    previous_time: datetime
    delivered_at: datetime


@dataclass(frozen=True)
class ScheduleCase:
    """`function`'s schedule fires and the tick is delivered `late` after it was due."""

    name: str
    function: str
    late: timedelta = timedelta(seconds=1)
    past_due: bool = False
    trigger: str = "schedule"

    def fire(self, now: datetime | None = None) -> Tick:
        delivered = now or datetime.now(UTC)
        due = (delivered - self.late).replace(second=0, microsecond=0)
        return Tick(due, due - PERIOD[self.function], delivered)

    def expected_seen(self, scheduled_time: str | None) -> list[dict[str, Any]]:
        return [
            {
                "fn": self.function,
                "name": self.function,
                "scheduled_time": scheduled_time,
                "past_due": self.past_due,
            }
        ]

    def check(self, outcome: Outcome, target: Target) -> list[str]:
        """What differs between `outcome` and this case's expectations ([] = pass)."""
        result = outcome.result if isinstance(outcome.result, dict) else {}
        scheduled = result.get("scheduled_time")
        if not isinstance(scheduled, str) or not scheduled.endswith(":00.000+00:00"):
            return [f"the driver reported no whole-minute scheduled_time: {scheduled!r}"]
        return differences("seen", self.expected_seen(scheduled), outcome.seen) + differences(
            "failed", [], outcome.failed
        )


def tick_result(tick: Tick, native: Any) -> dict[str, Any]:
    """The `Outcome.result` a schedule driver returns: the tick's due time and the native answer."""
    return {"scheduled_time": iso(tick.scheduled_time), "native": native}


_PAST_DUE = timedelta(hours=3, minutes=7)

CASES: list[ScheduleCase] = [
    ScheduleCase("cron-tick", CRON_FUNCTION),
    ScheduleCase("rate-tick", RATE_FUNCTION),
    ScheduleCase("cron-tick-late-seconds", CRON_FUNCTION, late=timedelta(seconds=40)),
    ScheduleCase("cron-tick-past-due", CRON_FUNCTION, late=_PAST_DUE, past_due=True),
    ScheduleCase("rate-tick-past-due", RATE_FUNCTION, late=_PAST_DUE, past_due=True),
]
