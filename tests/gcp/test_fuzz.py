"""Hostile payloads (tests/_hostile.py) through functions-framework's own app: the HTTP target
answers a push delivery or a scheduler tick with 2xx or a 4xx naming the field, the CloudEvent
target raises only `EventError` (or runs), whatever functions-framework and the cloudevents
library make of the request first."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyfn import EventError
from tests._hostile import FUZZ_SETTINGS, TEXTS, TIMES, dumps, mangled
from tests.gcp.conftest import Served, load_event

CE_FIXTURES = ["storage_cloudevent.json", "pubsub_cloudevent.json", "scheduler_pubsub.json"]
LEGACY_FIXTURES = ["storage_legacy.json", "pubsub_legacy.json"]
STRUCTURED = "application/cloudevents+json; charset=utf-8"


def assert_answered(resp: Any) -> None:
    """A delivery's answer: 2xx, or a 4xx whose JSON body names what was wrong."""
    assert resp.status_code in (204, 400, 404), resp.get_data()
    if resp.status_code == 400:
        body = json.loads(resp.get_data())
        assert body["error"] and body["source"], body
    elif resp.status_code == 404:
        assert json.loads(resp.get_data()) == {"error": "not found"}


def post_or_event_error(target: Served, data: str, content_type: str, **headers: str) -> None:
    try:
        body = data.encode("utf-8", "surrogatepass")
        resp = target.client.post("/", data=body, content_type=content_type, headers=headers)
    except EventError as exc:
        assert exc.source
        str(exc).encode("utf-8")
        return
    assert resp.status_code in (200, 400), resp.get_data()


@FUZZ_SETTINGS
@given(body=mangled(load_event("pubsub_push.json")), queue=st.sampled_from(["orders", "ticks"]))
def test_hostile_push_bodies_are_answered(http_target: Served, body: Any, queue: str) -> None:
    resp = http_target.client.post(
        f"/_polyfn/queue/{queue}", data=dumps(body).encode("utf-8", "surrogatepass")
    )
    assert_answered(resp)


latin1 = st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=40)


@FUZZ_SETTINGS
@given(job=st.sampled_from(["shop-nightly", "projects/p/locations/l/jobs/shop-nightly"]) | latin1,
       when=st.sampled_from(TIMES) | latin1)  # fmt: skip
def test_hostile_scheduler_headers_are_answered(http_target: Served, job: str, when: str) -> None:
    headers = {"X-CloudScheduler-JobName": job, "X-CloudScheduler-ScheduleTime": when}
    assert_answered(http_target.client.post("/_polyfn/schedule/nightly", headers=headers))


@pytest.mark.parametrize("fixture", CE_FIXTURES)
def test_hostile_structured_cloudevents_raise_only_event_errors(
    event_target_raising: Served, fixture: str
) -> None:
    @FUZZ_SETTINGS
    @given(event=mangled(load_event(fixture)))
    def check(event: Any) -> None:
        post_or_event_error(event_target_raising, dumps(event), STRUCTURED)

    check()


@pytest.mark.parametrize("fixture", CE_FIXTURES)
def test_hostile_binary_cloudevents_raise_only_event_errors(
    event_target_raising: Served, fixture: str
) -> None:
    original = load_event(fixture)

    @FUZZ_SETTINGS
    @given(data=mangled(original["data"]), attrs=st.dictionaries(
        st.sampled_from(["type", "source", "subject", "time", "id", "specversion", "traceparent"]),
        st.sampled_from([*TIMES, *TEXTS[:3], "1" * 4400]) | latin1, max_size=3))  # fmt: skip
    def check(data: Any, attrs: dict[str, str]) -> None:
        headers = {f"ce-{k}": str(v) for k, v in original.items() if k not in ("data",)}
        headers.pop("ce-datacontenttype")
        headers.update({f"ce-{k}": v for k, v in attrs.items() if "\ud800" not in v})
        post_or_event_error(event_target_raising, dumps(data), "application/json", **headers)

    check()


@pytest.mark.parametrize("fixture", LEGACY_FIXTURES)
def test_hostile_legacy_events_raise_only_event_errors(
    event_target_raising: Served, fixture: str
) -> None:
    @FUZZ_SETTINGS
    @given(body=mangled(load_event(fixture)))
    def check(body: Any) -> None:
        post_or_event_error(event_target_raising, dumps(body), "application/json")

    check()


# -- what the fuzzers found, one by one --------------------------------------------------------


def storage_event(**data: Any) -> dict[str, Any]:
    event = load_event("storage_cloudevent.json")
    event["data"].update(data)
    return event


def raised(target: Served, event: dict[str, Any]) -> EventError:
    with pytest.raises(EventError) as info:
        target.post_structured(event)
    str(info.value).encode("utf-8")
    return info.value


@pytest.mark.parametrize("ce_type", [{}, [], {"a": [1]}])
def test_a_cloudevent_type_that_is_not_text_is_an_event_error(event_target_raising, ce_type):
    event = load_event("pubsub_cloudevent.json")
    event["type"] = ce_type
    assert raised(event_target_raising, event).field == "type"


@pytest.mark.parametrize(
    ("size", "expected"),
    [("1" * 4300, "64-bit"), (-1, "at least 0"), ("-5", "an integer"), (2**64, "64-bit")],
)
def test_sizes_out_of_range_are_event_errors(event_target_raising, size, expected):
    err = raised(event_target_raising, storage_event(size=size))
    assert err.field == "data.size" and expected in str(err)


@pytest.mark.parametrize(("digits", "field"), [(4000, "data.generation"), (4400, "body")])
def test_a_generation_of_thousands_of_digits_is_an_event_error(event_target_raising, digits, field):
    # Up to 4,300 digits the JSON parser reads the number and polyfn refuses it; beyond, the
    # parser itself fails (int()'s limit) while functions-framework reads the request.
    text = json.dumps(storage_event(generation="HUGE")).replace('"HUGE"', "7" * digits)
    with pytest.raises(EventError) as info:
        event_target_raising.client.post("/", data=text, content_type=STRUCTURED)
    assert info.value.field == field


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_times_beyond_the_datetime_range_are_event_errors(event_target_raising, http_target, when):
    event = load_event("pubsub_cloudevent.json")
    event["data"]["message"]["publishTime"] = when
    event["data"]["message"].pop("publish_time")
    assert "years 1 to 9999" in str(raised(event_target_raising, event))
    event = load_event("storage_cloudevent.json")
    event["time"] = when
    assert raised(event_target_raising, event).field == "time"
    resp = http_target.client.post(
        "/_polyfn/schedule/nightly",
        headers={"X-CloudScheduler-JobName": "shop-nightly", "X-CloudScheduler-ScheduleTime": when},
    )
    assert resp.status_code == 400 and resp.get_json()["field"] == "X-CloudScheduler-ScheduleTime"


def test_a_legacy_event_time_beyond_the_range_is_an_event_error(event_target_raising):
    body = load_event("storage_legacy.json")
    body["context"]["timestamp"] = "0001-01-01T00:00:00+01:00"
    with pytest.raises(EventError, match="years 1 to 9999"):
        event_target_raising.post_legacy(body)


def test_a_deeply_nested_push_body_is_a_400(http_target):
    body = copy.deepcopy(load_event("pubsub_push.json"))
    body["message"]["attributes"] = "DEEP"
    text = json.dumps(body).replace('"DEEP"', "[" * 100_000 + "]" * 100_000)
    resp = http_target.client.post("/_polyfn/queue/orders", data=text)
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"


def test_a_deeply_nested_cloudevent_is_an_event_error(event_target_raising):
    text = '{"specversion": "1.0", "data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(EventError):
        event_target_raising.client.post("/", data=text, content_type=STRUCTURED)


def test_a_lone_surrogate_in_an_attribute_key_is_a_400_in_utf8(http_target):
    body = load_event("pubsub_push.json")
    body["message"]["attributes"]["k\ud800"] = []
    resp = http_target.client.post("/_polyfn/queue/orders", data=json.dumps(body))
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "message.attributes.k\\ud800"


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e.update(specversion=[]),  # cloudevents: unhashable
        lambda e: e.update(id=None),  # cloudevents: "invalid new value"
    ],
)
def test_what_the_cloudevents_library_raises_is_an_event_error(event_target_raising, edit):
    event = load_event("pubsub_cloudevent.json")
    edit(event)
    err = raised(event_target_raising, event)
    assert "functions-framework could not read" in str(err) and err.__cause__ is not None


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b.update(context="x"),  # functions-framework: Context(**"x")
        lambda b: b["context"]["resource"].pop("name"),  # KeyError: 'name'
        lambda b: b["context"].update(eventType=[1]),  # unhashable
    ],
)
def test_what_functions_framework_raises_converting_legacy_events_is_an_event_error(
    event_target_raising, edit
):
    body = load_event("storage_legacy.json")
    edit(body)
    with pytest.raises(EventError, match="functions-framework could not read"):
        event_target_raising.post_legacy(body)


def test_a_handlers_own_raise_is_not_renamed(event_target_raising):
    event = storage_event(name="incoming/fail.txt")
    event["subject"] = "objects/incoming/fail.txt"
    with pytest.raises(RuntimeError, match="storage handler failed"):
        event_target_raising.post_structured(event)
