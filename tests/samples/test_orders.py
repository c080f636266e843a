"""samples/orders through its three entry files: API Gateway HTTP API events into
lambda_function.handler, the worker's HttpRequest into function_app.py's functions, and
functions-framework serving main.http. Every cloud must answer the same. The orders table and
the worker's queue are the local twins here (tests/samples/conftest.py)."""

from __future__ import annotations

import json

import pytest

from conformance import HttpCase
from tests.samples._native import (
    AWS_HTTP_SOURCES,
    CLOUDS,
    app_module,
    aws_http,
    azure_host,
    azure_route,
    http,
    json_of,
)


@pytest.fixture(params=CLOUDS)
def cloud(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_create_get_list_delete(cloud: str) -> None:
    created = http("orders", cloud, "POST", "/orders", json_body={"sku": "apple", "quantity": 3})
    assert created.status == 201
    assert created.headers["content-type"] == ["application/json"]
    assert created.headers["location"] == ["/orders/1"]
    assert json_of(created) == {"id": "1", "sku": "apple", "quantity": 3, "note": None}
    http("orders", cloud, "POST", "/orders", json_body={"sku": "pear", "quantity": 1, "note": "x"})

    got = http("orders", cloud, "GET", "/orders/1")
    assert got.status == 200
    assert json_of(got) == {"id": "1", "sku": "apple", "quantity": 3, "note": None}

    listed = http("orders", cloud, "GET", "/orders")
    assert listed.status == 200
    assert json_of(listed)["count"] == 2
    assert [o["sku"] for o in json_of(listed)["orders"]] == ["apple", "pear"]

    deleted = http("orders", cloud, "DELETE", "/orders/1")
    assert deleted.status == 204
    assert deleted.body == b""
    gone = http("orders", cloud, "GET", "/orders/1")
    assert gone.status == 404
    assert json_of(gone) == {"error": "no order '1'"}
    assert json_of(http("orders", cloud, "GET", "/orders"))["count"] == 1


def test_a_created_order_is_stored_and_sent_to_the_worker(cloud: str) -> None:
    from polyfn._local._resources import current_state

    created = http("orders", cloud, "POST", "/orders", json_body={"sku": "fig", "quantity": 2})
    assert created.status == 201
    stored = app_module("orders").orders.get("order-1")
    assert dict(stored) == {"id": "1", "sku": "fig", "quantity": 2, "note": None}
    [message] = current_state().queue.receive("orders", 10, 30.0)
    assert json.loads(message.body) == {"id": "1", "sku": "fig", "quantity": 2, "note": None}
    attributes = dict(message.attributes)
    # The request's trace rides along for the worker to continue (docs/observability.md).
    assert attributes.pop("traceparent").startswith("00-")
    assert attributes == {"order_id": "1"}


def test_the_index_document_is_no_order(cloud: str) -> None:
    assert http("orders", cloud, "GET", "/orders/_index").status == 404


def test_repeated_query_key_filters_by_every_value(cloud: str) -> None:
    for sku in ("apple", "pear", "plum"):
        http("orders", cloud, "POST", "/orders", json_body={"sku": sku, "quantity": 1})
    listed = http("orders", cloud, "GET", "/orders", query="sku=apple&sku=plum")
    assert listed.status == 200
    assert sorted(o["sku"] for o in json_of(listed)["orders"]) == ["apple", "plum"]


def test_invalid_body_is_400_with_every_field_error(cloud: str) -> None:
    resp = http("orders", cloud, "POST", "/orders", json_body={"quantity": 0, "note": 5})
    assert resp.status == 400
    answer = json_of(resp)
    assert answer["error"] == "request body failed validation"
    by_field = {f["loc"]: f["type"] for f in answer["fields"]}
    assert by_field == {"sku": "missing", "quantity": "greater_than", "note": "string_type"}
    # nothing was stored
    assert json_of(http("orders", cloud, "GET", "/orders"))["count"] == 0


def test_body_that_is_not_json_is_400(cloud: str) -> None:
    resp = http(
        "orders",
        cloud,
        "POST",
        "/orders",
        body=b"sku=apple&quantity=1",
        headers=(("Content-Type", "application/json"),),
    )
    assert resp.status == 400
    assert json_of(resp)["fields"][0]["type"] == "json_invalid"


def test_unknown_order_is_404_for_get_and_delete(cloud: str) -> None:
    for method in ("GET", "DELETE"):
        resp = http("orders", cloud, method, "/orders/nope")
        assert resp.status == 404
        assert json_of(resp) == {"error": "no order 'nope'"}


def test_wrong_method_is_405_with_allow(cloud: str) -> None:
    resp = http("orders", cloud, "PUT", "/orders")
    assert resp.status == 405
    assert resp.headers["allow"] == ["GET, POST"]


def test_encoded_order_id_arrives_decoded(cloud: str) -> None:
    # A path parameter with an encoded space and a non-ASCII character: each cloud decodes it once.
    resp = http("orders", cloud, "GET", "/orders/caf%C3%A9%201")
    assert resp.status == 404
    assert json_of(resp) == {"error": "no order 'café 1'"}


def test_azure_host_routes_each_method_to_the_function_that_declares_it() -> None:
    # The Azure host picks the function by route and method before the worker sees anything:
    # each polyfn function must own its own (route, method) binding.
    assert azure_route("orders", "GET", "/orders") == ("list_orders", {})
    assert azure_route("orders", "POST", "/orders") == ("create_order", {})
    assert azure_route("orders", "GET", "/orders/7") == ("get_order", {"order_id": "7"})
    assert azure_route("orders", "DELETE", "/orders/7") == ("delete_order", {"order_id": "7"})
    host = azure_host("orders")
    assert {name: host.load_problems(name) for name in host.functions} == {
        "list_orders": [],
        "get_order": [],
        "create_order": [],
        "delete_order": [],
    }


@pytest.mark.parametrize("source", AWS_HTTP_SOURCES)
def test_one_lambda_handler_serves_every_aws_http_source(source: str) -> None:
    # lambda_function.handler tells the sources apart from the event itself.
    def send(method: str, path: str, body: bytes = b"") -> tuple[int | None, object]:
        headers = (("Content-Type", "application/json"),) if body else ()
        case = HttpCase(f"orders-{source}", method, path, headers=headers, body=body, status=None)
        outcome = aws_http("orders", case, source)
        return outcome.status, json_of(outcome) if outcome.body else None

    assert send("POST", "/orders", b'{"sku": "kiwi", "quantity": 4}')[0] == 201
    assert send("GET", "/orders/1") == (
        200,
        {"id": "1", "sku": "kiwi", "quantity": 4, "note": None},
    )
    status, answer = send("POST", "/orders", b'{"sku": "kiwi"}')
    assert status == 400
    assert answer == {
        "error": "request body failed validation",
        "fields": [{"loc": "quantity", "message": "Field required", "type": "missing"}],
    }
    assert send("DELETE", "/orders/1") == (204, None)
    assert send("GET", "/orders/1")[0] == 404
