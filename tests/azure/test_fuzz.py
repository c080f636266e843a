"""Hostile host inputs (tests/_hostile.py) through azure-functions' own converters: whatever a
converter accepts, the adapter answers with an `EventError` naming field and trigger (non-HTTP)
or a proper HTTP response (HTTP), never another exception, and every message is UTF-8 text."""

from __future__ import annotations

from typing import Any

import polyfn_azure
import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyfn import EventError
from tests._hostile import FUZZ_SETTINGS, dumps, expand, mangled
from tests.azure._host import Host, load
from tests.azure.conftest import Recorder, make_app
from tests.azure.test_mangled import CASES, HOST, check_outcome


def as_host_sends(spec: Any) -> Any:
    """Each json Datum's value as the JSON text the host sends (deep placeholders expanded)."""
    if isinstance(spec, dict):
        if spec.get("type") == "json" and not isinstance(spec.get("value"), str):
            return {**spec, "value": dumps(spec.get("value"))}
        return {k: as_host_sends(v) for k, v in spec.items()}
    return expand(spec)


@pytest.mark.parametrize(("name", "fixture_file"), CASES)
def test_hostile_inputs_give_event_errors_or_answers(name: str, fixture_file: str) -> None:
    fixture = load(fixture_file)

    @FUZZ_SETTINGS
    @given(data=st.data())
    def check(data: Any) -> None:
        check_outcome(name, as_host_sends(data.draw(mangled(fixture))))

    check()


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_tick_due_beyond_the_datetime_range_is_an_event_error(value: str) -> None:
    fixture = load("timer_request.json")
    fixture["data"]["value"]["ScheduleStatus"]["Next"] = value
    with pytest.raises(EventError, match="years 1 to 9999") as info:
        HOST.call("nightly", fixture)
    assert info.value.field == "ScheduleStatus.Next"


def test_a_blob_modified_beyond_the_datetime_range_still_runs() -> None:
    # LastModified is optional metadata: unreadable, it gives way to the trigger time.
    rec = Recorder()
    host = Host(polyfn_azure.function_app(make_app(rec)))
    fixture = load("blob_trigger.json")
    fixture["metadata"]["Properties"]["value"]["LastModified"] = "0001-01-01T00:00:00+01:00"
    host.call("on_upload", fixture)
    [(_, event)] = rec.seen
    assert event.key == "incoming/report 2026+final.csv" and event.time.year >= 2026
