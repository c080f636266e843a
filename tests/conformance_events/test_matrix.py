"""Every schedule, storage, queue and subscription case on every target that delivers its trigger.

The cases run against a fresh app holding only the event functions
(`conformance.app_events.event_app`), through each target's driver exactly as
`polyfn conformance` runs them (the runner's own `run_one`). Besides "every case passes", the
queue targets must lose no message: every message is either handled to the end (and
acknowledged) or handed back to the cloud to deliver again.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import _runner
from conformance._spec import Outcome
from conformance.app_events import event_app
from conformance.cases import queue as queue_cases
from conformance.cases import schedule as schedule_cases
from conformance.cases import storage as storage_cases
from conformance.cases import subscribe as subscribe_cases
from conformance.targets import aws_events, azure_events, gcp_events

CASES: list[Any] = [
    *schedule_cases.CASES,
    *storage_cases.CASES,
    *queue_cases.CASES,
    *subscribe_cases.CASES,
]
TARGETS: list[Any] = [*aws_events.TARGETS, *azure_events.TARGETS, *gcp_events.TARGETS]
QUEUE_TARGETS = [t for t in TARGETS if t.trigger == "queue"]
SUBSCRIPTION_TARGETS = [t for t in TARGETS if t.trigger == "subscribe"]
APP = event_app("conformance-events")

# Adapter bugs this matrix found (reported to their owners). strict: the test turns red the day
# the adapter is fixed, so the entry is removed then.
KNOWN_ADAPTER_BUGS: dict[tuple[str, str], str] = {}


_results: dict[tuple[str, str, str], _runner.Result] = {}


def _run(case: Any, target: Any) -> _runner.Result:
    """Run once per case and target in this process (several tests look at the same run)."""
    key = (case.trigger, case.name, target.name)
    if key not in _results:
        _results[key] = _runner.run_one(case, target, APP)
    return _results[key]


def _params() -> list[Any]:
    params = []
    for target in TARGETS:
        for case in CASES:
            if case.trigger != target.trigger:
                continue
            marks = []
            bug = KNOWN_ADAPTER_BUGS.get((target.name, case.name))
            if bug:
                marks.append(pytest.mark.xfail(reason=bug, strict=True))
            params.append(pytest.param(case, target, id=f"{target.name}:{case.name}", marks=marks))
    return params


def _failing(targets: list[Any], cases: list[Any]) -> list[Any]:
    """(case, target) pairs of the cases in which some message asks its handler to fail."""
    return [
        pytest.param(c, t, id=f"{t.name}:{c.name}")
        for t in targets
        for c in cases
        if any(m.fails for m in c.messages)
    ]


@pytest.mark.parametrize(("case", "target"), _params())
def test_case_on_target(case: Any, target: Any) -> None:
    result = _run(case, target)
    if result.status == _runner.SKIP:
        pytest.skip(result.reason)
    assert result.status == _runner.PASS, "\n".join([*result.problems, *result.logs[-5:]])


@pytest.mark.parametrize(("case", "target"), _failing(QUEUE_TARGETS, queue_cases.CASES))
def test_no_message_of_a_failing_batch_is_lost(case: Any, target: Any) -> None:
    """failed | acknowledged == every id, and nothing is acknowledged that did not finish."""
    result = _run(case, target)
    if result.status == _runner.SKIP:
        pytest.skip(result.reason)
    assert result.outcome is not None, result.problems
    outcome: Outcome = result.outcome
    ids = set(case.ids)
    failed = set(outcome.failed)
    assert failed <= ids, f"{target.name} reports ids that were not in the batch"
    acknowledged = ids - failed
    finished = {s["id"] for s in outcome.seen} - {m.id for m in case.messages if m.fails}
    assert acknowledged <= finished, f"acknowledged without finishing: {acknowledged - finished}"
    assert failed | acknowledged == ids
    assert {m.id for m in case.messages if m.fails} <= failed


@pytest.mark.parametrize(("case", "target"), _failing(SUBSCRIPTION_TARGETS, subscribe_cases.CASES))
def test_each_subscriber_fails_only_its_own_copy(case: Any, target: Any) -> None:
    """Every subscriber handles every message; each failing copy comes back, for its subscriber
    alone, and nothing else does."""
    result = _run(case, target)
    if result.status == _runner.SKIP:
        pytest.skip(result.reason)
    assert result.outcome is not None, result.problems
    outcome: Outcome = result.outcome
    for fn in case.functions:
        handled = [s["id"] for s in outcome.seen if s["fn"] == fn]
        assert handled == [m.id for m in case.messages], fn
        back = {f.partition("/")[2] for f in outcome.failed if f.startswith(f"{fn}/")}
        assert back == {m.id for m in case.messages if m.fails}, fn
    assert len(outcome.failed) == len(case.functions) * sum(m.fails for m in case.messages)


def test_subscription_targets_of_each_cloud_are_there() -> None:
    assert sorted(t.name for t in SUBSCRIPTION_TARGETS) == [
        "aws-sns-subscription",
        "azure-servicebus-topic",
        "gcp-pubsub-subscription",
    ]


def test_every_target_of_the_issue_is_there() -> None:
    required = {
        "aws-eventbridge", "aws-s3", "aws-s3-sqs", "aws-s3-sns", "aws-s3-eventbridge", "aws-sqs",
        "aws-sqs-fifo", "azure-timer", "azure-blob", "azure-eventgrid-blob", "azure-queue",
        "azure-servicebus", "gcp-storage", "gcp-storage-legacy", "gcp-pubsub",
        "gcp-scheduler-http",
    }  # fmt: skip
    names = [t.name for t in TARGETS]
    assert required <= set(names)
    assert len(names) == len(set(names))


def test_case_names_are_unique_per_trigger() -> None:
    for trigger in ("schedule", "storage", "queue"):
        names = [c.name for c in CASES if c.trigger == trigger]
        assert len(names) == len(set(names)), trigger


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.trigger}:{c.name}")
def test_every_case_runs_on_at_least_two_clouds(case: Any) -> None:
    """A skip is a cloud's limit, never a way out: each case is delivered on two clouds at least."""
    clouds = set()
    for target in (t for t in TARGETS if t.trigger == case.trigger):
        if _run(case, target).status != _runner.SKIP:
            clouds.add(target.cloud)
    assert len(clouds) >= 2, f"{case.name} runs only on {clouds}"


# -- the checks can fail ------------------------------------------------------------------------


def _passing_outcome(case: Any, target: Any) -> Outcome:
    result = _runner.run_one(case, target, APP)
    assert result.status == _runner.PASS, result.problems
    assert result.outcome is not None
    return result.outcome


def test_a_lost_message_fails_the_check() -> None:
    case = next(c for c in queue_cases.CASES if c.name == "json-10-several-fail")
    good = _passing_outcome(case, aws_events.Sqs())
    assert len(good.failed) == 3
    lost = Outcome(seen=good.seen, failed=good.failed[1:], result=good.result)
    assert case.check(lost, aws_events.Sqs())
    extra = Outcome(seen=good.seen, failed=[*good.failed, case.ids[1]], result=good.result)
    assert case.check(extra, aws_events.Sqs())


def test_fifo_expects_the_rest_of_a_failed_group_back() -> None:
    case = next(c for c in queue_cases.CASES if c.name == "fifo-10-one-fails")
    # message 3 (group customer-b) fails: 5, 7 and 9 of that group come back unhandled
    assert case.expected_failed("fifo") == [case.ids[i] for i in (2, 4, 6, 8)]
    assert case.expected_failed("batch") == [case.ids[2]]
    assert len(case.expected_seen("fifo")) == 7
    outcome = _passing_outcome(case, aws_events.SqsFifo())
    as_batch = Outcome(seen=outcome.seen, failed=[case.ids[2]], result=outcome.result)
    assert case.check(as_batch, aws_events.SqsFifo())


def test_a_wrong_key_or_kind_fails_the_check() -> None:
    case = next(c for c in storage_cases.CASES if c.name == "created-plus-and-spaces")
    good = _passing_outcome(case, aws_events.S3Direct())
    assert good.seen[0]["key"] == "q1 + q2/sum + total.txt"
    for field, value in (("key", "q1   q2/sum   total.txt"), ("kind", "deleted"), ("size", 98)):
        bad = Outcome(seen=[{**good.seen[0], field: value}], result=good.result)
        assert case.check(bad, aws_events.S3Direct()), field


def test_a_tick_with_the_wrong_time_or_flag_fails_the_check() -> None:
    case = next(c for c in schedule_cases.CASES if c.name == "cron-tick")
    good = _passing_outcome(case, gcp_events.SchedulerHttp())
    for field, value in (("past_due", True), ("scheduled_time", None), ("name", "tick_rate")):
        bad = Outcome(seen=[{**good.seen[0], field: value}], result=good.result)
        assert case.check(bad, gcp_events.SchedulerHttp()), field
    assert case.check(Outcome(seen=[], result=good.result), gcp_events.SchedulerHttp())
