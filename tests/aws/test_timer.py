"""Timer ticks through `polyfn_aws.handler`: EventBridge rules (dispatch by rule name) and
EventBridge Scheduler inputs; the resource names the builder and the dispatcher share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polyfn_aws
import pytest
from polyfn_aws import rule_name, scheduler_input
from polyfn_aws._timer import handle_scheduled

from polyfn import App, EventError, Schedule

from .conftest import Seen, event, lambda_context, make_app, validate

DUE = datetime(2024, 3, 10, 2, 0, tzinfo=UTC)


def run(ev: dict[str, Any], **kw: Any) -> Seen:
    seen = Seen()
    assert polyfn_aws.handler(make_app(seen), **kw)(ev, lambda_context("req-t")) is None
    return seen


def with_rule(name: str) -> dict[str, Any]:
    ev = event("eventbridge_schedule")
    ev["resources"] = [f"arn:aws:events:us-east-1:123456789012:rule/{name}"]
    return validate("EventBridgeModel", ev)


def test_the_rule_name_selects_the_function():
    seen = run(event("eventbridge_schedule"))
    assert seen.names() == ["nightly"]
    tick, ctx = seen[0][1], seen[0][2]
    assert tick.name == "nightly"
    assert tick.schedule == Schedule.cron("0 2 * * *")
    assert tick.scheduled_time == DUE
    assert tick.past_due is True  # delivered long after it was due
    assert (ctx.function_name, ctx.invocation_id) == ("nightly", "req-t")
    assert run(with_rule("shop-hourly")).names() == ["hourly"]


def test_a_rule_on_a_custom_event_bus():
    assert run(with_rule("orders-bus/shop-hourly")).names() == ["hourly"]


def test_a_tick_on_time_is_not_past_due():
    seen = Seen()
    app = make_app(seen)
    for late, past_due in [(timedelta(seconds=40), False), (timedelta(minutes=5), True)]:
        handle_scheduled(app, None, event("eventbridge_schedule"), None, now=DUE + late)
        assert seen[-1][1].past_due is past_due


def test_an_unknown_rule_is_an_event_error_naming_the_expected_rules():
    with pytest.raises(EventError) as info:
        run(with_rule("shop-weekly"))
    text = str(info.value)
    assert "'shop-weekly'" in text and "shop-nightly" in text and "shop-hourly" in text


def test_an_app_with_one_schedule_runs_it_for_its_rule_only():
    # Another rule firing the same Lambda (a keep-warm ping) must not run the job.
    seen: list[Any] = []
    app = App("solo")

    @app.schedule("*/5 * * * *")
    def tick(event: Any, ctx: Any) -> None:
        seen.append(event)

    with pytest.raises(EventError) as info:
        polyfn_aws.handler(app)(with_rule("keep-warm"), lambda_context())
    assert "'keep-warm'" in str(info.value) and "solo-tick" in str(info.value)
    assert seen == []
    polyfn_aws.handler(app)(with_rule("solo-tick"), lambda_context())
    # An event that names no rule at all can only be for the one schedule.
    no_rule = with_rule("solo-tick")
    no_rule["resources"] = []
    polyfn_aws.handler(app)(no_rule, lambda_context())
    assert [t.name for t in seen] == ["tick", "tick"]
    # Built for the function, the Lambda serves any rule (one deployed by hand).
    polyfn_aws.handler(app, function="tick")(with_rule("renamed-by-hand"), lambda_context())
    assert len(seen) == 3


def test_a_lambda_for_one_function_runs_it_for_any_rule():
    assert run(with_rule("whatever"), function="hourly").names() == ["hourly"]
    with pytest.raises(EventError, match="serves 'on_order'"):
        run(event("eventbridge_schedule"), function="on_order")


def test_a_raise_fails_the_invocation():
    app = App("shop")

    @app.schedule("0 2 * * *")
    def nightly(event: Any, ctx: Any) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        polyfn_aws.handler(app)(event("eventbridge_schedule"), lambda_context())


def test_scheduler_input_selects_the_function():
    seen = run(event("scheduler"))
    assert seen.names() == ["hourly"]
    tick = seen[0][1]
    assert tick.scheduled_time == datetime(2024, 3, 10, 13, 0, tzinfo=UTC)
    assert tick.schedule == Schedule.rate(hours=1)


def test_scheduler_input_is_what_the_builder_configures():
    seen = Seen()
    app = make_app(seen)
    payload = scheduler_input(app, app.function("nightly"))
    assert payload == {
        "polyfn": {"app": "shop", "function": "nightly"},
        "time": "<aws.scheduler.scheduled-time>",
    }
    # Sent by hand (a test invoke), the placeholder stays: no scheduled time, still dispatched.
    polyfn_aws.handler(app)(payload, lambda_context())
    assert seen[0][1].name == "nightly" and seen[0][1].scheduled_time is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"polyfn": {"app": "other", "function": "hourly"}}, "app 'other'"),
        ({"polyfn": {"app": "shop", "function": "weekly"}}, "'weekly'"),
        ({"polyfn": {"app": "shop", "function": "on_order"}}, "'on_order'"),
        ({"polyfn": {"app": "shop"}}, "polyfn.function"),
        ({"polyfn": "shop"}, "polyfn"),
        ({"polyfn": {"app": "shop", "function": "hourly"}, "time": "soon"}, "time"),
    ],
)
def test_scheduler_inputs_polyfn_cannot_serve(payload, message):
    with pytest.raises(EventError, match=message):
        run(payload)


def test_rule_names_fit_eventbridge():
    import re

    app = App("a-very-long-application-name-for-the-shop-service-of-example-corp")
    names = []
    for fn_name in ["nightly_cleanup_of_every_old_upload", "nightly_cleanup_of_every_old_order"]:
        app.schedule("0 2 * * *", function_name=fn_name)(lambda e, c: None)
        names.append(rule_name(app, app.function(fn_name)))
    for name in names:
        assert re.fullmatch(r"[.\-_A-Za-z0-9]{1,64}", name), name
    assert names[0] != names[1]
    short = App("shop")
    short.schedule("0 2 * * *", function_name="ünïcode")(lambda e, c: None)
    assert rule_name(short, short.function("ünïcode")) == "shop--n-code"
