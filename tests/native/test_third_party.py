"""Third-party native handlers, unchanged, on every cloud: Lambda handlers built with
aws-lambda-powertools (APIGatewayRestResolver, APIGatewayHttpResolver, BatchProcessor with partial
failure, parser models) through polyfn_aws.from_lambda, and a functions-framework Flask view
through polyfn_gcp.from_functions_framework, run by polyfn.testing (the core `polyfn serve` runs),
the Azure adapter (azure-functions' own converters and FunctionApp), the GCP adapter
(functions-framework's own Flask app) and the AWS adapter (awslambdaric's LambdaContext).
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import polyfn_aws
import polyfn_azure
import pytest
from awslambdaric.lambda_context import LambdaContext

from polyfn.testing import Client
from tests.azure._host import Host, encoded_response, load
from tests.gcp.conftest import Served
from tests.native import app as native_app
from tests.native.app import app
from tests.native.conftest import logged_errors

MAIN = Path(__file__).with_name("native_main.py")


def cookie_names(cookies: list[str]) -> list[str]:
    return [c.split("=", 1)[0] for c in cookies]


# -- polyfn.testing (the core `polyfn serve` runs) ----------------------------------------------


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(app, source_ip="198.51.100.4")


def test_rest_resolver_locally(client: Client, seen: Any) -> None:
    resp = client.get("/todos/42?tag=a&tag=b", headers={"User-Agent": "curl/8"})
    assert resp.status == 200
    answer = client.json(resp)
    assert answer["id"] == "42"
    assert answer["tags"] == ["a", "b"]
    assert answer["user_agent"] == "curl/8"
    assert answer["source_ip"] == "198.51.100.4"
    created = client.post("/todos", json={"title": "milk"})
    assert created.status == 201
    assert client.json(created) == {"created": {"title": "milk"}}
    assert created.headers.getall("x-seen") == ["a", "b"]
    assert cookie_names(created.cookies) == ["session", "theme"]
    image = client.get("/todos/42/image")
    assert (image.status, image.content_type, image.body) == (200, "image/png", bytes(range(256)))


def test_a_raise_in_the_resolver_is_polyfns_500(client: Client, polyfn_log: Any) -> None:
    resp = client.get("/todos/42/fail")
    assert resp.status == 500
    assert b"secret" not in resp.body
    assert client.json(resp)["error"] == "internal error"
    assert "secret detail" in "".join(str(r.exc_info[1]) for r in polyfn_log if r.exc_info)


def test_http_resolver_locally(client: Client) -> None:
    resp = client.get("/items/7?x=1&x=2", headers={"Cookie": "a=1; b=2"})
    assert client.json(resp) == {
        "id": "7",
        "query": {"x": "1,2"},
        "cookies": ["a=1", "b=2"],
        "raw_query": "x=1&x=2",
    }
    created = client.post("/items", body="hello", headers={"Content-Type": "text/plain"})
    assert (created.status, created.body) == (201, b"hello")
    assert cookie_names(created.cookies) == ["a", "b"]


def test_batch_processor_fails_only_the_failing_messages(client: Client, seen: Any) -> None:
    client.send("orders", {"order": 1})
    with pytest.raises(Exception, match="All records failed processing"):
        client.send("orders", {"order": 2, "fail": True})
    client.send("orders", {"order": 3})
    assert [s["sqs"]["order"] for s in seen] == [1, 3]
    # the lenient processor answers batchItemFailures instead of raising
    from polyfn_aws._native import BatchItemFailureError

    with pytest.raises(BatchItemFailureError, match="batchItemFailures"):
        client.send("payments", {"order": 4, "fail": True})
    client.send("payments", {"order": 5})
    assert [s["sqs"]["order"] for s in seen] == [1, 3, 5]


def test_sns_s3_and_eventbridge_handlers_locally(client: Client, seen: Any) -> None:
    client.publish("order-events", {"order": 9})
    client.put_object("uploads", "in/a b.csv", b"x")
    client.tick("schedule_handler")
    assert json.loads(seen[0]["sns"]) == {"order": 9}
    assert seen[1] == {"s3": "in/a+b.csv", "bucket": "uploads", "name": "ObjectCreated:Put"}
    assert seen[2]["eventbridge"] == "Scheduled Event"


def test_flask_view_locally(client: Client) -> None:
    resp = client.get("/hello?name=Ann&tag=a&tag=b", headers={"User-Agent": "t/1"})
    assert client.json(resp) == {
        "hello": "Ann",
        "tags": ["a", "b"],
        "path": "/hello",
        "agent": "t/1",
        "remote_addr": "198.51.100.4",
    }
    posted = client.post("/hello", json={"name": "Bo"})
    assert posted.status == 201
    assert client.json(posted) == {"greeted": "Bo"}
    assert posted.headers.getall("x-multi") == ["one", "two"]
    assert cookie_names(posted.cookies) == ["visited", "lang"]
    assert client.get("/hello?missing=1").status == 404  # flask.abort, as Flask answers it


def test_a_view_answer_flask_refuses_is_a_500_naming_it(client: Client, polyfn_log: Any) -> None:
    resp = client.get("/none")
    assert resp.status == 500
    assert b"NoneType" not in resp.body
    errors = logged_errors(polyfn_log)
    assert "'returns_none' returned NoneType" in errors
    assert "return a str, bytes, dict, list, flask.Response" in errors


@pytest.mark.parametrize(
    ("path", "answer", "problem"),
    [
        ("/odd-rest", "plain text", "it is str, not an object"),
        ("/odd-rest", {"body": "x"}, "statusCode None is no integer"),
        ("/odd-rest", {"statusCode": 200, "body": {"a": 1}}, "body is dict"),
        ("/odd-rest", {"statusCode": 200, "cookies": ["a=1"]}, "unknown keys ['cookies']"),
        ("/odd-rest", {"statusCode": 200, "headers": {"X": None}}, "headers['X'] is NoneType"),
        ("/odd-http", {"statusCode": 200, "body": "!", "isBase64Encoded": True}, "not base64"),
        ("/odd-http", {"statusCode": 99}, "statusCode 99"),
    ],
)
def test_unsupported_http_answers_are_500_with_the_reason_logged(
    client: Client, polyfn_log: Any, path: str, answer: Any, problem: str
) -> None:
    native_app.ANSWER[0] = answer
    resp = client.get(path)
    assert resp.status == 500
    assert client.json(resp)["error"] == "internal error"
    errors = logged_errors(polyfn_log)
    assert problem in errors
    assert 'return {"statusCode": 200' in errors  # the nearest supported shape


def test_http_api_infers_a_json_200_from_any_other_answer(client: Client) -> None:
    native_app.ANSWER[0] = {"just": "data"}
    resp = client.get("/odd-http")
    assert (resp.status, resp.content_type, client.json(resp)) == (
        200,
        "application/json",
        {"just": "data"},
    )
    native_app.ANSWER[0] = {"statusCode": 302, "headers": {"Location": "/x"}, "cookies": ["c=1"]}
    moved = client.get("/odd-http")
    assert (moved.status, moved.headers.get("location"), moved.cookies) == (302, "/x", ["c=1"])


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("ok", "answered an SQS batch with str"),
        ({"batchItemFailures": {"itemIdentifier": "x"}}, "batchItemFailures is dict"),
        ({"batchItemFailures": [{"itemIdentifier": "other"}]}, "names no record of the batch"),
        ({"batchItemFailures": [{"id": "x"}]}, "names no record of the batch"),
    ],
)
def test_unsupported_sqs_answers_fail_the_message(
    client: Client, answer: Any, problem: str
) -> None:
    native_app.ANSWER[0] = answer
    with pytest.raises(polyfn_aws._native.LambdaAnswerError, match=problem):
        client.send("odd-queue", "m")
    for fine in (None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}):
        native_app.ANSWER[0] = fine
        client.send("odd-queue", "m")


def test_from_lambda_refuses_unknown_sources_and_non_handlers() -> None:
    from polyfn import ConfigError

    with pytest.raises(ConfigError, match="event='alb' is not served; expected one of 'rest'"):
        polyfn_aws.from_lambda(lambda e, c: None, event="alb")
    with pytest.raises(ConfigError, match="got str"):
        polyfn_aws.from_lambda("handler.main", event="sqs")  # type: ignore[arg-type]


# -- Azure: azure-functions' converters and FunctionApp ------------------------------------------


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(polyfn_azure.function_app(app))


def azure_request(method: str, url: str, body: bytes = b"", **headers: str) -> dict[str, Any]:
    fixture = load("http_request.json")
    value = fixture["data"]["value"]
    value["method"]["value"] = method
    value["url"]["value"] = "https://native-app.azurewebsites.net/api" + url
    value["query"] = {}
    value["params"] = {}
    value["body"] = {"type": "bytes", "base64": base64.b64encode(body).decode()}
    for name, v in headers.items():
        value["headers"][name.replace("_", "-")] = {"type": "string", "value": v}
    return fixture


def test_rest_resolver_on_azure(host: Host) -> None:
    status, _, _, body = encoded_response(
        host.http("todos", azure_request("GET", "/todos/42?tag=a&tag=b"))
    )
    assert status == 200
    answer = json.loads(body)
    assert (answer["id"], answer["tags"], answer["source_ip"]) == ("42", ["a", "b"], "203.0.113.7")
    status, headers, cookies, body = encoded_response(
        host.http(
            "todos_create",
            azure_request("POST", "/todos", b'{"title": "tea"}', content_type="application/json"),
        )
    )
    assert (status, json.loads(body)) == (201, {"created": {"title": "tea"}})
    assert cookie_names(cookies) == ["session", "theme"]
    status, headers, _, body = encoded_response(
        host.http("todos", azure_request("GET", "/todos/1/image"))
    )
    assert (status, headers["content-type"], body) == (200, "image/png", bytes(range(256)))


def test_http_resolver_and_flask_view_on_azure(host: Host) -> None:
    status, _, _, body = encoded_response(host.http("items", azure_request("GET", "/items/7?x=1")))
    assert (status, json.loads(body)["query"]) == (200, {"x": "1"})
    status, _, cookies, body = encoded_response(
        host.http(
            "hello",
            azure_request("POST", "/hello", b'{"name": "Cy"}', content_type="application/json"),
        )
    )
    assert (status, json.loads(body)) == (201, {"greeted": "Cy"})
    assert cookie_names(cookies) == ["visited", "lang"]


def azure_queue_message(body: bytes) -> dict[str, Any]:
    fixture = load("storage_queue_message.json")
    fixture["data"] = {"type": "bytes", "base64": base64.b64encode(body).decode()}
    fixture["metadata"]["Id"]["value"] = str(uuid.uuid4())
    return fixture


def test_batch_processor_on_azure(host: Host, seen: Any) -> None:
    host.call("sqs_handler", azure_queue_message(b'{"order": 1}'))
    with pytest.raises(Exception, match="All records failed processing"):
        host.call("sqs_handler", azure_queue_message(b'{"order": 2, "fail": true}'))
    assert [s["sqs"]["order"] for s in seen] == [1]


# -- GCP: functions-framework's own Flask app --------------------------------------------------


@pytest.fixture(scope="module")
def gcp() -> Any:
    """functions-framework's app serving tests/native/native_main.py (no cookie jar: each request
    sends the cookies the test gives it)."""
    return Served("http", "http", source=MAIN).flask_app.test_client(use_cookies=False)


def test_rest_and_http_resolvers_on_gcp(gcp: Any) -> None:
    resp = gcp.get("/todos/42?tag=a&tag=b", headers={"X-Forwarded-For": "192.0.2.1"})
    assert resp.status_code == 200
    assert (resp.json["id"], resp.json["tags"], resp.json["source_ip"]) == (
        "42",
        ["a", "b"],
        "192.0.2.1",
    )
    created = gcp.post("/todos", json={"title": "jam"})
    assert created.status_code == 201
    assert created.headers.getlist("X-Seen") == ["a", "b"]
    assert cookie_names(created.headers.getlist("Set-Cookie")) == ["session", "theme"]
    assert gcp.get("/todos/1/image").data == bytes(range(256))
    assert gcp.get("/items/3?x=1", headers={"Cookie": "k=v"}).json["cookies"] == ["k=v"]
    failed = gcp.get("/todos/1/fail")
    assert failed.status_code == 500 and b"secret" not in failed.data


def test_flask_view_on_gcp_gets_functions_frameworks_own_request(gcp: Any) -> None:
    resp = gcp.get("/hello?name=Di", headers={"User-Agent": "ff/1"})
    assert (resp.json["hello"], resp.json["agent"]) == ("Di", "ff/1")
    assert gcp.get("/hello?missing=1").status_code == 404


def push(body: bytes) -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(body).decode(),
            "messageId": str(uuid.uuid4()),
            "publishTime": "2026-11-27T10:05:00.000Z",
            "attributes": {},
        },
        "subscription": "projects/p/subscriptions/orders-push",
    }


def test_batch_processor_on_gcp_push(gcp: Any, seen: Any) -> None:
    assert gcp.post("/_polyfn/queue/orders", json=push(b'{"order": 1}')).status_code == 204
    # a failed message is a 500: Pub/Sub redelivers it
    assert (
        gcp.post("/_polyfn/queue/orders", json=push(b'{"order": 2, "fail": true}')).status_code
        == 500
    )
    assert [s["sqs"]["order"] for s in seen] == [1]


# -- AWS: the original event passes through; a Flask view runs on Lambda ------------------------


def aws_context() -> LambdaContext:
    import time

    return LambdaContext(
        str(uuid.uuid4()),
        None,
        None,
        int(time.time() * 1000) + 30_000,
        "arn:aws:lambda:us-east-1:123456789012:function:native-todos",
    )


def test_on_aws_the_lambda_handler_gets_the_delivered_event_untouched() -> None:
    from polyfn import App

    received: list[tuple[Any, Any]] = []

    def spy(event: Any, context: Any) -> dict[str, Any]:
        received.append((event, context))
        return {"statusCode": 204}

    spied = App("spied")
    spied.http("/{proxy+}", methods=["GET"], function_name="api")(
        polyfn_aws.from_lambda(spy, event="rest")
    )
    spied.queue("orders", function_name="worker")(polyfn_aws.from_lambda(spy, event="sqs"))
    handler = polyfn_aws.handler(spied)
    event = polyfn_aws.sample_event("http-rest", path="/todos/42")
    context = aws_context()
    assert handler(event, context)["statusCode"] == 204
    assert received[0][0] is event and received[0][1] is context
    # an HTTP API event is re-rendered as the REST event the handler was written for
    handler(polyfn_aws.sample_event("http-api", path="/todos/42"), context)
    assert "httpMethod" in received[1][0] and received[1][0]["path"] == "/todos/42"
    batch = polyfn_aws.sample_event("sqs", queue="orders")
    assert handler(batch, context) == {"batchItemFailures": []}
    assert received[2][0]["Records"][0] is batch["Records"][0]


def test_rest_resolver_and_flask_view_on_aws(seen: Any) -> None:
    handler = polyfn_aws.handler(app)
    context = aws_context()
    out = handler(
        polyfn_aws.sample_event("http-rest", path="/todos/42", query="tag=a&tag=b"), context
    )
    assert out["statusCode"] == 200
    assert json.loads(out["body"])["tags"] == ["a", "b"]
    assert json.loads(out["body"])["request_id"] == context.aws_request_id
    out = handler(
        polyfn_aws.sample_event(
            "http-api", path="/hello", query="name=Ed", **{"header.user-agent": "u/2"}
        ),
        context,
    )
    assert out["statusCode"] == 200
    assert json.loads(out["body"])["hello"] == "Ed"
    out = handler(
        polyfn_aws.sample_event("http-rest", method="POST", path="/hello", body='{"name": "Fi"}'),
        context,
    )
    assert out["statusCode"] == 201
    assert cookie_names(out["multiValueHeaders"]["Set-Cookie"]) == ["visited", "lang"]
    batch = polyfn_aws.sample_event("sqs", queue="orders", body='{"order": 2, "fail": true}')
    assert handler(batch, context) == {
        "batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]
    }
