"""Mangled requests and CloudEvents through functions-framework's app (hypothesis): the HTTP
target answers 4xx naming the field, never a traceback; the CloudEvent target raises EventError,
never a bare KeyError/TypeError/ValueError."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyfn import EventError
from tests.gcp.conftest import load_event

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into nested dicts (the places a mutation can land)."""
    out = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.extend(_paths(value, (*prefix, key)))
    return out


@st.composite
def mangled(draw: st.DrawFn, fixture: str) -> dict[str, Any]:
    """A payload fixture with a few fields deleted or replaced by arbitrary JSON values."""
    event = copy.deepcopy(load_event(fixture))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(event) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = event
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return event


def _assert_client_error(resp: Any) -> None:
    assert resp.status_code in (204, 400, 404), resp.get_data(as_text=True)
    if resp.status_code == 400:
        body = resp.get_json()
        assert body["error"] and "Traceback" not in body["error"]
        assert body["source"]
    elif resp.status_code == 404:  # nothing about what the app serves reaches the client
        assert resp.get_json() == {"error": "not found"}


@SETTINGS
@given(body=mangled("pubsub_push.json"))
def test_mangled_push_bodies_are_4xx_naming_the_field(http_target, body):
    resp = http_target.client.post("/_polyfn/queue/orders", data=json.dumps(body))
    _assert_client_error(resp)
    if resp.status_code == 400:
        assert resp.get_json()["field"]


@SETTINGS
@given(raw=st.binary(max_size=64))
def test_arbitrary_push_bytes_are_4xx(http_target, raw):
    _assert_client_error(http_target.client.post("/_polyfn/queue/orders", data=raw))


@SETTINGS
@given(
    job=st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=30),
    when=st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=30),
)
def test_mangled_scheduler_headers_are_4xx(http_target, job, when):
    headers = {"X-CloudScheduler-JobName": job, "X-CloudScheduler-ScheduleTime": when}
    resp = http_target.client.post("/_polyfn/schedule/nightly", headers=headers)
    _assert_client_error(resp)


@SETTINGS
@given(
    # One leading slash: werkzeug's test client reads "//x" as a host name (a client-side
    # artefact, not a request a server could receive as a path).
    path=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20).map(
        lambda s: "/" + s.lstrip("/")
    ),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
    body=st.binary(max_size=32),
)
def test_arbitrary_requests_never_leak_a_traceback(http_target, path, method, body):
    from urllib.parse import quote

    resp = http_target.client.open(quote(path), method=method, data=body)
    if resp.status_code >= 500:
        assert path.startswith("/boom") or "schedule/failing" in path
    assert b"Traceback" not in resp.get_data()


@st.composite
def mangled_cloudevent(draw: st.DrawFn, fixture: str) -> dict[str, Any]:
    """A CloudEvent whose data is mangled and whose type/source/subject/time may be any text.

    The envelope itself (specversion, id) stays valid: that is the cloudevents library's to
    check, and it answers for it before polyfn is called.
    """
    event = copy.deepcopy(load_event(fixture))
    data = draw(mangled(fixture)).get("data") if draw(st.booleans()) else draw(json_values)
    event["data"] = data
    for attr in ("type", "source", "subject", "time"):
        if draw(st.integers(0, 4)) == 0:
            event[attr] = draw(st.text(st.characters(codec="ascii", min_codepoint=32), max_size=40))
    return event


def _post_or_raise(target: Any, event: dict[str, Any], mode: str) -> None:
    try:
        resp = target.post_binary(event) if mode == "binary" else target.post_structured(event)
    except EventError as exc:
        assert exc.source
        return
    assert resp.status_code == 200, resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "fixture", ["storage_cloudevent.json", "pubsub_cloudevent.json", "scheduler_pubsub.json"]
)
@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_mangled_cloudevents_raise_only_event_errors(event_target_raising, fixture, mode):
    @SETTINGS
    @given(event=mangled_cloudevent(fixture))
    def check(event: dict[str, Any]) -> None:
        _post_or_raise(event_target_raising, event, mode)

    check()


@st.composite
def mangled_legacy_data(draw: st.DrawFn) -> dict[str, Any]:
    """A legacy storage event whose data (what polyfn reads) is mangled. Its context is
    functions-framework's to convert: it raises TypeError itself on, say, a list eventType."""
    body = copy.deepcopy(load_event("storage_legacy.json"))
    body["data"] = draw(mangled("storage_legacy.json")).get("data", draw(json_values))
    return body


@SETTINGS
@given(body=mangled_legacy_data())
def test_mangled_legacy_events_raise_only_event_errors(event_target_raising, body):
    try:
        resp = event_target_raising.post_legacy(body)
    except EventError as exc:
        assert exc.source
        return
    assert resp.status_code == 200
