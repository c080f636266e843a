"""Each trigger class owns its label, its description and its registration; dispatch over the
`Trigger` union is exhaustive, so mypy reports a trigger kind some `match` forgot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from polyfn import App, ConfigError, Schedule
from polyfn._app import (
    TRIGGER_LABELS,
    TRIGGER_TYPES,
    assert_never,
)

ROOT = Path(__file__).resolve().parents[2]
# Errors in polyfn's own modules are the repository's mypy run's business, not this test's.
MYPY = (sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent")


def make_app() -> App:
    app = App("shop")
    app.http("/orders/{id}", methods=["GET", "HEAD"], function_name="order")(lambda r, c: None)
    app.schedule(Schedule.rate(minutes=5), function_name="sweep")(lambda e, c: None)
    app.storage("uploads", on="deleted", function_name="gone")(lambda e, c: None)
    app.queue("orders", function_name="worker")(lambda m, c: None)
    app.subscribe("events", function_name="audit")(lambda m, c: None)
    return app


def test_each_function_names_its_trigger_by_the_class_label() -> None:
    app = make_app()
    labels = {f.name: f.trigger_label for f in app.functions}
    assert labels == {
        "order": "http",
        "sweep": "schedule",
        "gone": "storage",
        "worker": "queue",
        "audit": "subscribe",
    }
    # `kind`, the label's first name, still answers the same.
    assert all(f.kind == f.trigger_label for f in app.functions)
    assert TRIGGER_LABELS == ("http", "schedule", "storage", "queue", "subscribe")
    assert [f.name for f in app.functions_of("storage")] == ["gone"]


def test_functions_of_refuses_a_word_that_is_no_trigger_label() -> None:
    with pytest.raises(ConfigError, match=r"unknown trigger kind 'timer'; expected one of"):
        make_app().functions_of("timer")


def test_describe_is_each_trigger_describing_itself() -> None:
    app = make_app()
    assert app.describe() == (
        "order: GET|HEAD /orders/{id}; sweep: schedule rate(5 minutes); "
        "gone: storage uploads on deleted; worker: queue orders; "
        "audit: subscription to topic events"
    )


def test_binding_a_trigger_registers_its_route_and_checks_its_queue() -> None:
    app = make_app()
    assert app.router.match("GET", "/orders/7")[1] is app.functions[0]
    with pytest.raises(ConfigError, match="queue 'orders' already feeds function 'worker'"):
        app.queue("orders", function_name="other")(lambda m, c: None)
    assert [f.name for f in app.functions] == ["order", "sweep", "gone", "worker", "audit"]


def test_every_trigger_class_carries_label_noun_describe_and_bind() -> None:
    for cls in TRIGGER_TYPES:
        assert cls.label in TRIGGER_LABELS
        assert cls.noun.endswith(" function")
        assert callable(cls.describe) and callable(cls.bind)
    assert len({cls.label for cls in TRIGGER_TYPES}) == len(TRIGGER_TYPES)


def test_assert_never_fails_loudly_at_run_time() -> None:
    with pytest.raises(AssertionError, match="unhandled trigger"):
        assert_never(object())  # type: ignore[arg-type]


_MATCH = """
from polyfn._app import HttpTrigger, QueueTrigger, ScheduleTrigger, StorageTrigger, Trigger
from polyfn._app import SubscribeTrigger, assert_never


def route(trigger: Trigger) -> str:
    match trigger:
        case HttpTrigger():
            return "http"
        case ScheduleTrigger():
            return "schedule"
        case StorageTrigger():
            return "storage"
        case SubscribeTrigger():
            return "subscribe"
{queue_case}
        case _:
            assert_never(trigger)
"""
_QUEUE_CASE = """        case QueueTrigger():
            return "queue"
"""


def test_mypy_reports_a_match_that_forgets_a_trigger_kind(tmp_path: Path) -> None:
    """The proof that the core's `assert_never` (typed without importing `typing`) makes mypy
    check exhaustiveness: the same `match` passes with every case and fails without one."""
    pytest.importorskip("mypy")
    complete = tmp_path / "complete.py"
    complete.write_text(_MATCH.format(queue_case=_QUEUE_CASE))
    missing = tmp_path / "missing.py"
    missing.write_text(
        _MATCH.format(queue_case="").replace("QueueTrigger, ", "")  # the import is unused now
    )

    cache = tmp_path / "mypy-cache"

    def mypy(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MYPY, "--cache-dir", str(cache), str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    ok = mypy(complete)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = mypy(missing)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert 'Argument 1 to "assert_never" has incompatible type "QueueTrigger"' in bad.stdout
