"""`LocalRuntime` in process: the scheduler fires on its clock, `tick` fires on demand, `stop`
returns with nothing left running."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from polyfn import App, Schedule
from polyfn._cli import main
from polyfn._local import _runtime
from polyfn._local._runtime import LocalRuntime

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path


def test_schedules_fire_on_their_clock_and_stop_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App("clock")
    fired: list[tuple[str, datetime | None]] = []

    @app.schedule(Schedule.rate(minutes=5))
    def every_five(event, ctx):
        fired.append((event.name, event.scheduled_time))

    @app.schedule("0 2 * * *")
    def nightly(event, ctx):
        fired.append((event.name, event.scheduled_time))

    # Compress time: every schedule is due 0.2 s after the previous tick.
    monkeypatch.setattr(
        _runtime, "next_fire", lambda s, after, origin=None: after + timedelta(seconds=0.2)
    )
    runtime = LocalRuntime(app, port=0, state_dir=tmp_path)
    runtime.start()
    try:
        deadline = time.monotonic() + 10
        while len({name for name, _ in fired}) < 2 or len(fired) < 4:
            assert time.monotonic() < deadline, fired
            time.sleep(0.05)
    finally:
        runtime.stop()
    assert {name for name, _ in fired} == {"every_five", "nightly"}
    times = [when for name, when in fired if name == "every_five"]
    assert times == sorted(times) and all(t is not None and t.tzinfo for t in times)
    count = len(fired)
    time.sleep(0.5)
    assert len(fired) == count  # stopped: nothing fires any more
    assert not [t for t in threading.enumerate() if t.name.startswith("polyfn-")]


def test_tick_command_runs_a_schedule_and_reports_a_raise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("polyfn.local").addHandler(handler)
    source = tmp_path / "tick_app.py"
    source.write_text(
        "from polyfn import App\napp = App('t')\n"
        "@app.schedule('0 2 * * *')\ndef ok(event, ctx):\n    print('ran', event.past_due)\n"
        "@app.schedule('0 3 * * *')\ndef bad(event, ctx):\n    raise RuntimeError('no')\n"
    )
    assert main(["tick", str(source), "ok", "--past-due"]) == 0
    assert "ran True" in capsys.readouterr().out
    assert main(["tick", str(source), "bad"]) == 1
    logging.getLogger("polyfn.local").removeHandler(handler)
    [line] = [r for r in records if r.getMessage() == "invocation" and r.function == "bad"]
    assert (line.trigger, line.outcome, line.error) == ("schedule", "error", "RuntimeError('no')")
