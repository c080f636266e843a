"""Events that are not what they claim: the handler answers properly or raises `EventError`
naming the field, never a KeyError/TypeError, never a traceback in an HTTP answer, and it never
acknowledges an SQS record it did not run."""

from __future__ import annotations

import copy
import json
from typing import Any

import polyfn_aws
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyfn import EventError

from .conftest import MODELS, Seen, event, lambda_context, load, make_app

FIXTURES = sorted([*MODELS, "scheduler"])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "%", "%zz", "+", "/", "a b", "\ud800", "=", "GET", "$default"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a JSON document, JSON strings inside it (SQS/SNS bodies) included."""
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            found += paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            found += paths(v, (*prefix, i))
    return found


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(FIXTURES))
    ev = load(name)
    for _ in range(draw(st.integers(1, 3))):
        all_paths = paths(ev)
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent: Any = ev
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["delete", "replace", "replace"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return name, ev


def check_http_answer(result: dict[str, Any]) -> None:
    assert isinstance(result["statusCode"], int)
    assert isinstance(result["body"], str)
    assert isinstance(result["isBase64Encoded"], bool)
    assert "Traceback" not in result["body"]
    json.dumps(result)


def outcome(ev: dict[str, Any]) -> tuple[Any, Seen]:
    seen = Seen()
    handler = polyfn_aws.handler(make_app(seen))
    try:
        return handler(ev, lambda_context()), seen
    except EventError as exc:
        assert str(exc)
        return exc, seen


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mangled())
def test_mangled_events_give_an_answer_or_an_event_error(case):
    name, ev = case
    result, seen = outcome(copy.deepcopy(ev))
    if isinstance(result, EventError):
        return
    if result is None:
        return
    assert isinstance(result, dict), result
    if "batchItemFailures" in result:
        # Every record that did not run must be reported: nothing is acknowledged unrun.
        reported = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        ran = {getattr(e, "id", None) for _, e, _ in seen}
        records = ev["Records"]
        for record in records:
            message_id = record.get("messageId")
            if name in ("sqs", "sqs_fifo") and message_id not in ran:
                assert message_id in reported, (message_id, result)
        return
    check_http_answer(result)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda e: e["requestContext"]["http"].pop("method"), "requestContext.http.method"),
        (lambda e: e.pop("rawPath"), "rawPath"),
        (lambda e: e.update(headers=[]), "headers"),
        (lambda e: e["headers"].update(accept=1), "headers.accept"),
        (lambda e: e.update(cookies="a=1"), "cookies"),
        (lambda e: e.update(body="%%%", isBase64Encoded=True), "body"),
        (lambda e: e.update(body="x", isBase64Encoded="yes"), "isBase64Encoded"),
        (lambda e: e.update(rawQueryString=5), "rawQueryString"),
    ],
)
def test_http_event_errors_name_the_field(edit, field):
    ev = event("apigw_http_v2")
    edit(ev)
    with pytest.raises(EventError) as info:
        polyfn_aws.handler(make_app(Seen()))(ev, lambda_context())
    assert info.value.field == field
    assert info.value.source == "API Gateway HTTP API (payload 2.0)"


@pytest.mark.parametrize(
    ("name", "edit", "field"),
    [
        ("apigw_rest", lambda e: e.pop("path"), "path"),
        ("apigw_rest", lambda e: e.update(multiValueHeaders={"a": "b"}), "multiValueHeaders.a"),
        ("alb", lambda e: e.update(queryStringParameters={"q": None}), "queryStringParameters.q"),
        ("alb_multi", lambda e: e.update(httpMethod=None), "httpMethod"),
        ("sqs", lambda e: e["Records"][0].pop("messageId"), "Records[0].messageId"),
        (
            "s3_put",
            lambda e: e["Records"][0]["s3"]["object"].pop("key"),
            "Records[0].s3.object.key",
        ),
        ("s3_put", lambda e: e["Records"][0].update(eventTime="now"), "Records[0].eventTime"),
        ("sns", lambda e: e["Records"][0]["Sns"].pop("Message"), "Records[0].Sns.Message"),
        ("eventbridge_schedule", lambda e: e.update(resources="x"), "resources"),
        ("s3_eventbridge_created", lambda e: e["detail"].pop("bucket"), "detail.bucket"),
    ],
)
def test_other_event_errors_name_the_field(name, edit, field):
    ev = event(name)
    edit(ev)
    with pytest.raises(EventError) as info:
        polyfn_aws.handler(make_app(Seen()))(ev, lambda_context())
    assert info.value.field == field


@pytest.mark.parametrize(
    "ev",
    [None, [], "GET /", 42, {}, {"Records": []}, {"Records": [1]}, {"Records": "x"},
     {"Records": [{"eventSource": "aws:kinesis"}]}, {"requestContext": {}},
     {"detail-type": "Scheduled Event", "source": "aws.codebuild"}, {"hello": "world"}],
)  # fmt: skip
def test_events_polyfn_does_not_serve(ev):
    with pytest.raises(EventError) as info:
        polyfn_aws.handler(make_app(Seen()))(ev, lambda_context())
    assert info.value.source


def test_an_unknown_event_says_what_arrived_and_what_the_app_serves():
    with pytest.raises(EventError) as info:
        polyfn_aws.handler(make_app(Seen()))({"hello": "world"}, lambda_context())
    text = str(info.value)
    assert "hello" in text and "get_order: GET|POST /orders/{order_id}" in text


def test_an_sns_message_with_a_lone_surrogate_is_an_event_error():
    # JSON's "\ud800" escape reads as a lone surrogate, which has no UTF-8 bytes.
    ev = event("sns")
    ev["Records"][0]["Sns"]["Message"] = "a\ud800b"
    with pytest.raises(EventError) as info:
        polyfn_aws.handler(make_app(Seen()))(ev, lambda_context())
    assert info.value.field == "Records[0].Sns.Message"
