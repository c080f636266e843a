"""Mangled host-shaped inputs: keys dropped, values of other types, through the real converters.

What azure-functions' converters themselves reject never reaches polyfn (the worker fails the
invocation first), so only inputs the converters accept are put to the adapter; from those, only
an EventError (non-HTTP) or a proper HTTP response (HTTP) may come out.
"""

from __future__ import annotations

import copy
from typing import Any

import polyfn_azure
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import azure_worker
from polyfn import EventError
from tests.azure._host import Host, datum, encoded_response, load
from tests.azure.conftest import Recorder, make_app

CASES = [
    ("get_order", "http_request.json"),
    ("nightly", "timer_request.json"),
    ("on_upload", "blob_trigger.json"),
    ("on_change", "eventgrid_blob_created.json"),
    ("on_change", "cloudevents_blob_deleted.json"),
    ("on_order", "storage_queue_message.json"),
    ("on_payment", "service_bus_message.json"),
]

HOST = Host(polyfn_azure.function_app(make_app(Recorder()), service_bus_queues=["payments"]))

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=24),
    st.sampled_from(
        [
            "",
            "http://[::1",
            "/blobServices/default/containers//blobs/",
            "2026-13-45T99:00:00Z",
            "not-a-time",
            "%ZZ",
            "-1",
            "0",
            "Microsoft.Storage.BlobRenamed",
            "uploads",
        ]
    ),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=2),
)


def node_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key != "_comment":
                found += node_paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += node_paths(value, (*prefix, i))
    return found


@st.composite
def mangled(draw: st.DrawFn, fixture: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(fixture)
    for _ in range(draw(st.integers(1, 3))):
        paths = node_paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[last]
        else:
            parent[last] = draw(VALUES)
    return data


def decoded(name: str, fixture: dict[str, Any]) -> Any:
    try:
        return HOST.decode(name, fixture)
    except Exception:  # the converter refused it: the worker fails before polyfn runs
        return None


def check_outcome(name: str, fixture: dict[str, Any]) -> None:
    """`fixture` through the converter and function `name`: an EventError naming field and source
    (UTF-8 text) for a non-HTTP trigger, a proper answer (never a 500) for HTTP."""
    arg = decoded(name, fixture)
    if arg is None:
        return
    trigger = HOST.trigger(name)
    user = HOST.functions[name].get_user_function()
    try:
        result = user(**{trigger["name"]: arg}, context=azure_worker.context(name))
    except EventError as exc:
        assert trigger["type"] != "httpTrigger", exc
        assert exc.source and exc.field
        str(exc).encode("utf-8")
        return
    if trigger["type"] == "httpTrigger":
        from azure.functions.http import HttpResponseConverter

        status, _, _, body = encoded_response(
            HttpResponseConverter.encode(result, expected_type=None)
        )
        assert status in (200, 400, 404, 405), (status, body)
        assert b"Traceback" not in body


@pytest.mark.parametrize(("name", "fixture_file"), CASES)
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_only_event_errors_or_proper_responses(name: str, fixture_file: str, data: Any) -> None:
    check_outcome(name, data.draw(mangled(load(fixture_file))))


def test_datum_helper_builds_what_the_converters_take() -> None:
    # The unmangled fixtures all decode: the property test above is not vacuous.
    for name, fixture_file in CASES:
        assert decoded(name, load(fixture_file)) is not None, fixture_file
    assert datum({"type": "string", "value": "x"}).value == "x"
