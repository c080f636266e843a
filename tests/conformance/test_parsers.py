"""Every native input the HTTP drivers render is accepted by a parser nobody here wrote.

AWS events by aws-lambda-powertools' parser models (and, read back through Powertools' own event
classes, they say what the case says); Azure requests through azure-functions'
HttpRequestConverter from the Datum the host sends; GCP requests by Werkzeug, the WSGI layer under
functions-framework's Flask app. The negative tests show the validators are not rubber stamps.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import ValidationError

from conformance._wire import decoded_path, query_pairs
from conformance.cases.http import CASES
from conformance.targets import aws_http, azure_http

AWS_SOURCES = ["aws-rest", "aws-http", "aws-url", "aws-alb", "aws-alb-multi"]
RENDER = {
    "aws-rest": aws_http.render_rest,
    "aws-http": aws_http.render_http_api,
    "aws-url": aws_http.render_function_url,
    "aws-alb": aws_http.render_alb,
    "aws-alb-multi": aws_http.render_alb_multi,
}


def _ids(case: Any) -> str:
    return str(case.name)


@pytest.mark.parametrize("source", AWS_SOURCES)
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_aws_events_validate_with_powertools(case: Any, source: str) -> None:
    aws_http.validate(source, RENDER[source](case))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_rest_event_reads_back_through_powertools(case: Any) -> None:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    event = APIGatewayProxyEvent(aws_http.render_rest(case))
    assert event.http_method == case.method
    if event.is_base64_encoded:
        assert base64.b64decode(event.body or "") == case.body
    else:
        assert (event.body or "").encode() == case.body
    for name in case.header_names:
        assert event.multi_value_headers[next(
            k for k in event.multi_value_headers if k.lower() == name
        )] == case.header_values(name)  # fmt: skip
    pairs = query_pairs(case.query)
    for name, _ in pairs:
        assert event.multi_value_query_string_parameters[name] == [v for k, v in pairs if k == name]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_http_api_event_reads_back_through_powertools(case: Any) -> None:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    event = APIGatewayProxyEventV2(aws_http.render_http_api(case))
    assert event.request_context.http.method == case.method
    assert event.raw_query_string == case.query
    assert event.request_context.http.source_ip == case.source_ip
    assert (event.cookies or []) == [f"{n}={v}" for n, v in case.cookies]
    assert event.raw_path == decoded_path(case)


@pytest.mark.parametrize("source", ["aws-alb", "aws-alb-multi"])
def test_alb_events_read_back_through_powertools(source: str) -> None:
    from aws_lambda_powertools.utilities.data_classes import ALBEvent

    case = next(c for c in CASES if c.name == "query-encoded")
    event = ALBEvent(RENDER[source](case))
    # ALB hands the query over as the client encoded it.
    values = (
        event.multi_value_query_string_parameters["q"]
        if source == "aws-alb-multi"
        else [event.query_string_parameters["q"]]
    )
    assert values == ["caf%C3%A9%20au%20lait"]
    assert event.request_context.elb_target_group_arn == aws_http.ALB_ARN


@pytest.mark.parametrize("source", AWS_SOURCES)
def test_powertools_rejects_a_mangled_event(source: str) -> None:
    event = RENDER[source](CASES[0])
    del event["httpMethod" if source in ("aws-rest", "aws-alb", "aws-alb-multi") else "rawPath"]
    with pytest.raises(ValidationError):
        aws_http.validate(source, event)


def test_alb_multi_value_event_is_not_a_single_value_one() -> None:
    """Powertools' AlbModel demands the single-value maps; the multi-value model must not."""
    from aws_lambda_powertools.utilities.parser.models import AlbModel

    event = aws_http.render_alb_multi(CASES[0])
    with pytest.raises(ValidationError):
        AlbModel.model_validate(event)
    aws_http.validate("aws-alb-multi", event)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_azure_datum_decodes_with_azure_functions(case: Any) -> None:
    from azure.functions.http import HttpRequestConverter

    values = {"first": "x"} if case.path.startswith("/echo/") else {}
    req = HttpRequestConverter.decode(azure_http.request_datum(case, values), trigger_metadata=None)
    assert req.method == case.method
    assert req.url.startswith(f"https://{azure_http.HOST}/api{case.path}")
    assert req.get_body() == case.body
    assert dict(req.route_params) == values
    for name in case.header_names:
        # The host joins repeated header lines with commas.
        assert req.headers[name] == ",".join(case.header_values(name))
    pairs = query_pairs(case.query)
    for name, _ in pairs:
        assert req.params[name] == ",".join(v for k, v in pairs if k == name)


def test_azure_converter_rejects_a_datum_that_is_not_http() -> None:
    from azure.functions.http import HttpRequestConverter
    from azure.functions.meta import Datum

    with pytest.raises(NotImplementedError):
        HttpRequestConverter.decode(Datum("GET /", "string"), trigger_metadata=None)


def test_azure_route_matching_follows_the_host() -> None:
    match = azure_http.match_route
    assert match("api/echo/{first}/{second}", ["api", "echo", "a b", "c"]) == {
        "first": "a b",
        "second": "c",
    }
    assert match("api/files/{*path}", ["api", "files", "a", "b.txt"]) == {"path": "a/b.txt"}
    assert match("api/items/{id:int}", ["api", "items", "7"]) == {"id": "7"}
    assert match("api/items/{id?}", ["api", "items"]) == {}
    assert match("api/echo", ["api", "other"]) is None
    assert match("api/echo", ["api", "echo", "extra"]) is None


@pytest.mark.parametrize("case", [c for c in CASES if "%" in c.path], ids=_ids)
def test_werkzeug_decodes_the_path_the_gcp_driver_sends(case: Any) -> None:
    """The gcp-http driver hands functions-framework the raw path; Werkzeug decodes it."""
    from flask import Flask, request

    flask_app = Flask("probe")
    with flask_app.test_request_context(case.path, method=case.method):
        assert request.path == decoded_path(case)
