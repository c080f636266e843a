"""samples/cleanup through its three entry files: an EventBridge rule's scheduled event and an
EventBridge Scheduler invocation into lambda_function.handler, the timer trigger's TimerInfo into
function_app.py's function, and Cloud Scheduler (HTTP target and Pub/Sub) into main.py.

A tick removes the cache entries older than a day at the tick's scheduled time, and the handler
records whether the tick was past due: Azure says so itself (IsPastDue); AWS and Cloud Scheduler
do not, so polyfn calls a tick past due when it arrives minutes after its scheduled time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polyfn_aws
import polyfn_gcp
import pytest

from conformance.cases.queue import Message
from conformance.targets import aws_events, azure_events, gcp_events
from tests.samples._native import (
    app_module,
    aws_invoke,
    aws_validate,
    azure_call,
    azure_host,
    gcp_client,
)

FUNCTION = "nightly_cleanup"


@pytest.fixture(autouse=True)
def state() -> Iterator[Any]:
    module = app_module("cleanup")
    module.CACHE.clear()
    module.RUNS.clear()
    yield module
    module.CACHE.clear()
    module.RUNS.clear()


def _function() -> Any:
    module = app_module("cleanup")
    return module.app, module.app.function(FUNCTION)


def aws_rule(scheduled: datetime, late: bool = False) -> None:
    app, fn = _function()
    event = aws_events.scheduled_event(polyfn_aws.rule_name(app, fn), scheduled)
    assert aws_invoke("cleanup", aws_validate("EventBridgeModel", event)) is None


def aws_scheduler(scheduled: datetime, late: bool) -> None:
    # The Input `polyfn build` gives the schedule, with the time Scheduler substitutes.
    app, fn = _function()
    event = polyfn_aws.scheduler_input(app, fn)
    event["time"] = scheduled.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert aws_invoke("cleanup", event) is None


def azure_timer(scheduled: datetime, past_due: bool) -> None:
    from azure.functions.meta import Datum

    info = azure_events.timer_info(scheduled, scheduled - timedelta(days=1), past_due)
    assert azure_call("cleanup", FUNCTION, Datum(info, "json")) is None


def gcp_scheduler_http(scheduled: datetime, late: bool) -> None:
    app, fn = _function()
    resp = gcp_client("cleanup", "http", "http").post(
        polyfn_gcp.schedule_path(fn),
        data=b"",
        headers={
            "X-CloudScheduler": "true",
            "X-CloudScheduler-JobName": polyfn_gcp.scheduler_job_name(app, fn),
            "X-CloudScheduler-ScheduleTime": scheduled.isoformat(timespec="milliseconds"),
            "User-Agent": "Google-Cloud-Scheduler",
            "Content-Type": "application/octet-stream",
        },
    )
    assert 200 <= resp.status_code < 300, resp.get_data()  # a 2xx ends the attempt


def gcp_scheduler_pubsub(scheduled: datetime, late: bool) -> None:
    message = Message(
        id=str(uuid.uuid4().int)[:16],
        body=b"",
        enqueued_time=scheduled + timedelta(milliseconds=600),
        attributes=((polyfn_gcp.SCHEDULE_ATTRIBUTE, FUNCTION),),
        delivery_count=3 if late else 1,  # a redelivery, hours later
    )
    body, headers = gcp_events.binary_mode(
        gcp_events.pubsub_attributes(message, "cleanup-ticks"),
        gcp_events.pubsub_envelope(message, attempt=True),
    )
    resp = gcp_client("cleanup", "event", "cloudevent").post("/", data=body, headers=headers)
    assert 200 <= resp.status_code < 300, resp.get_data()  # a 2xx acknowledges the message


# Each delivers one tick scheduled at `scheduled`; `late` says the delivery comes hours after
# that time (a retry): Azure's host flags it (IsPastDue), Pub/Sub counts the delivery attempts,
# the others only show it by the time the tick carries.
TICKS: dict[str, Callable[[datetime, bool], None]] = {
    "aws-eventbridge-rule": aws_rule,
    "aws-eventbridge-scheduler": aws_scheduler,
    "azure-timer": azure_timer,
    "gcp-scheduler-http": gcp_scheduler_http,
    "gcp-scheduler-pubsub": gcp_scheduler_pubsub,
}


def _now() -> datetime:
    """This minute: a cron tick is due on a whole minute on every cloud."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.mark.parametrize("source", sorted(TICKS))
def test_a_tick_removes_only_the_expired_entries(source: str, state: Any) -> None:
    scheduled = _now()
    state.CACHE.update(
        {
            "stale": scheduled - timedelta(days=2),
            "just-expired": scheduled - timedelta(days=1, seconds=1),
            "fresh": scheduled - timedelta(hours=23),
        }
    )
    TICKS[source](scheduled, False)
    assert sorted(state.CACHE) == ["fresh"]
    assert len(state.RUNS) == 1
    run = state.RUNS[0]
    assert run["removed"] == 2
    assert run["past_due"] is False
    # the entries are judged against the tick's scheduled time, not the clock
    assert datetime.fromisoformat(str(run["at"])) == scheduled


@pytest.mark.parametrize("source", sorted(TICKS))
def test_a_late_tick_is_reported_past_due(source: str, state: Any) -> None:
    scheduled = _now() - timedelta(hours=3)
    state.CACHE["old"] = scheduled - timedelta(days=3)
    # still fresh at the scheduled time, though older than a day by now
    state.CACHE["kept"] = scheduled - timedelta(hours=22)
    TICKS[source](scheduled, True)
    assert state.RUNS[-1]["past_due"] is True
    assert state.RUNS[-1]["removed"] == 1
    assert sorted(state.CACHE) == ["kept"]


def test_the_azure_timer_carries_the_ncrontab_of_the_cron() -> None:
    assert azure_host("cleanup").trigger(FUNCTION)["schedule"] == "0 30 2 * * *"
    assert azure_host("cleanup").load_problems(FUNCTION) == []


def test_a_scheduler_tick_for_another_function_fails_the_invocation(state: Any) -> None:
    from polyfn import EventError

    app, fn = _function()
    event = polyfn_aws.scheduler_input(app, fn)
    event["polyfn"]["function"] = "hourly_report"
    event["time"] = "2026-11-27T02:30:00Z"
    with pytest.raises(EventError) as err:
        aws_invoke("cleanup", event)
    # Lambda retries, then hands the event to the on-failure destination: not lost, not run.
    assert "hourly_report" in str(err.value)
    assert "nightly_cleanup" in str(err.value)  # says what the app serves
    assert state.RUNS == []


def test_the_same_tick_twice_is_harmless(state: Any) -> None:
    scheduled = _now()
    state.CACHE["stale"] = scheduled - timedelta(days=2)
    aws_rule(scheduled)
    aws_rule(scheduled)  # Lambda may deliver an asynchronous event more than once
    assert [r["removed"] for r in state.RUNS] == [1, 0]
    assert json.dumps(state.RUNS)  # what the sample records stays JSON-friendly
