"""Payloads published by Azure's own projects (tests/events/azure/published/, sources in its
README) through the real path: host-shaped Datums -> azure-functions' converters -> the function
that `polyfn_azure.function_app` registered -> the neutral value a handler sees. Plus the edge
cases those payloads stand next to: route prefixes, query strings, cookies, blob names, Event Grid
URLs, queue bodies and Service Bus property types."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import polyfn_azure
import pytest

from polyfn import App, HttpRequest, HttpResponse, QueueMessage, StorageEvent, TimerEvent
from tests.azure._host import Host, encoded_response, load


def published(name: str) -> dict[str, Any]:
    return load(f"published/{name}")


class Seen:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def only(self, name: str) -> Any:
        assert [n for n, _ in self.events] == [name]
        return self.events[0][1]


def make_app(seen: Seen) -> App:
    app = App("published")

    @app.http("/dummy", methods=["POST"])
    def dummy(req: HttpRequest, ctx: Any) -> Any:
        seen.events.append(("dummy", req))
        return {"path": req.path, "query": req.query.multi_items(), "body": req.text}

    @app.http("/foo", methods=["POST"])
    def foo(req: HttpRequest, ctx: Any) -> HttpResponse:
        seen.events.append(("foo", req))
        return HttpResponse.binary(req.body, req.headers.get("content-type") or "")

    @app.http("/items/{item}", methods=["GET", "HEAD"])
    def items(req: HttpRequest, ctx: Any) -> Any:
        seen.events.append(("items", req))
        return {"item": req.path_params["item"], "path": req.path}

    @app.http("/cookies", methods=["GET"])
    def cookies(req: HttpRequest, ctx: Any) -> HttpResponse:
        resp = HttpResponse.binary(bytes(range(256)), "application/octet-stream")
        resp.set_cookie("session", "s1", http_only=True, secure=True, same_site="Lax")
        resp.set_cookie("theme", "dark", expires="Thu, 01 Jan 2026 00:00:00 GMT")
        resp.set_cookie("gone", "", max_age=0)
        resp.headers.add("X-Multi", "one")
        resp.headers.add("X-Multi", "two")
        return resp

    @app.http("/bad-expires", methods=["GET"])
    def bad_expires(req: HttpRequest, ctx: Any) -> HttpResponse:
        return HttpResponse.text("x").set_cookie("a", "1", expires="someday")

    @app.storage("samples-workitems", on=["created"])
    def workitems(event: StorageEvent, ctx: Any) -> None:
        seen.events.append(("workitems", event))

    for container in ("test-container", "testcontainer", "my-file-system", "uploads"):
        # One Event Grid function per container the published events name.
        def on_blob(event: StorageEvent, ctx: Any, container: str = container) -> None:
            seen.events.append((container, event))

        app.storage(container, on=["created", "deleted"])(
            _renamed(on_blob, "eg_" + container.replace("-", "_"))
        )

    @app.queue("orders")
    def orders(msg: QueueMessage, ctx: Any) -> None:
        seen.events.append(("orders", msg))

    @app.queue("payments")
    def payments(msg: QueueMessage, ctx: Any) -> None:
        seen.events.append(("payments", msg))

    @app.schedule("*/5 * * * *")
    def every5(event: TimerEvent, ctx: Any) -> None:
        seen.events.append(("every5", event))

    return app


def _renamed(fn: Any, name: str) -> Any:
    fn.__name__ = fn.__qualname__ = name
    return fn


@pytest.fixture
def seen() -> Seen:
    return Seen()


def host_for(seen: Seen, **options: Any) -> Host:
    return Host(
        polyfn_azure.function_app(make_app(seen), service_bus_queues=["payments"], **options)
    )


@pytest.fixture
def host(seen: Seen) -> Host:
    return host_for(seen)


def http_fixture(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> dict[str, Any]:
    """An HTTP invocation shaped like http_converter_decode.json, for a URL of the edge cases."""
    fixture = published("http_converter_decode.json")
    value = fixture["data"]["value"]
    value["method"]["value"] = method
    value["url"]["value"] = url
    value["headers"] = {k: {"type": "string", "value": v} for k, v in (headers or {}).items()}
    value["query"] = {}
    value["params"] = {}
    value["body"] = {"type": "bytes", "base64": base64.b64encode(body).decode()}
    return fixture


# -- HTTP ---------------------------------------------------------------------------------------


def test_library_http_request(host: Host, seen: Seen) -> None:
    status, headers, _, body = encoded_response(
        host.http("dummy", published("http_converter_decode.json"))
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "path": "/dummy",
        "query": [["dummy_query_key", "dummy_query_value"]],
        "body": "test_body",
    }
    req = seen.only("dummy")
    assert req.method == "POST"
    assert req.headers.get("Content-Type") == "html"
    assert req.body == b"test_body"


def test_form_body_arrives_as_sent(host: Host, seen: Seen) -> None:
    status, headers, _, body = encoded_response(
        host.http("foo", published("http_form_urlencoded.json"))
    )
    assert status == 200
    # The body is bytes as the client sent them: "+" stays "+", nothing is form-decoded.
    assert body == b"foo=Hello+World&bar=baz"
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.only("foo").body == b"foo=Hello+World&bar=baz"


@pytest.mark.parametrize(
    ("prefix", "url"),
    [
        ("api", "https://example.azurewebsites.net/api/dummy?dummy_query_key=dummy_query_value"),
        ("", "https://example.azurewebsites.net/dummy?dummy_query_key=dummy_query_value"),
        (
            "v1/fn",
            "https://example.azurewebsites.net/v1/fn/dummy?dummy_query_key=dummy_query_value",
        ),
        # The host matches routes case-insensitively, so the prefix may arrive in another case.
        ("api", "https://example.azurewebsites.net/API/dummy?dummy_query_key=dummy_query_value"),
    ],
)
def test_route_prefix_is_stripped(seen: Seen, prefix: str, url: str) -> None:
    host = host_for(seen, route_prefix=prefix)
    route = host.trigger("dummy")["route"]
    assert route == "dummy"
    fixture = published("http_converter_decode.json")
    fixture["data"]["value"]["url"]["value"] = url
    status, _, _, body = encoded_response(host.http("dummy", fixture))
    assert status == 200
    assert json.loads(body)["path"] == "/dummy"


def test_query_plus_percent_and_repeated_keys(host: Host, seen: Seen) -> None:
    url = "https://h.azurewebsites.net/api/items/a%20b%2Bc?q=1+2&q=%2B&q=3&e=&amp=a%26b&u=caf%C3%A9"
    status, _, _, body = encoded_response(host.http("items", http_fixture(url)))
    assert status == 200
    assert json.loads(body) == {"item": "a b+c", "path": "/items/a b+c"}
    req = seen.only("items")
    assert req.query.getall("q") == ["1 2", "+", "3"]
    assert req.query.get("e") == ""
    assert req.query.get("amp") == "a&b"
    assert req.query.get("u") == "café"


def test_several_cookies_in_the_cookie_header(host: Host, seen: Seen) -> None:
    cookie = 'session=abc123; theme=dark; quoted="a b"; empty='
    host.http("items", http_fixture("https://h/api/items/1", headers={"cookie": cookie}))
    req = seen.only("items")
    assert req.cookies == {"session": "abc123", "theme": "dark", "quoted": "a b", "empty": ""}


def test_head_request_reaches_the_route(host: Host, seen: Seen) -> None:
    status, _, _, _ = encoded_response(
        host.http("items", http_fixture("https://h/api/items/7", method="HEAD"))
    )
    assert status == 200
    assert seen.only("items").method == "HEAD"


def test_several_set_cookies_and_a_binary_body(host: Host) -> None:
    status, headers, cookies, body = encoded_response(
        host.http("cookies", http_fixture("https://h/api/cookies"))
    )
    assert status == 200
    assert body == bytes(range(256))
    assert headers["content-type"] == "application/octet-stream"
    assert headers["x-multi"] == "one, two"
    by_name = {c.split("=", 1)[0]: c for c in cookies}
    assert sorted(by_name) == ["gone", "session", "theme"]
    assert "HttpOnly" in by_name["session"] and "SameSite=Lax" in by_name["session"]
    assert "expires=Thu, 01 Jan 2026 00:00:00 GMT" in by_name["theme"]
    assert "Max-Age=0" in by_name["gone"]


def test_set_cookie_expires_the_worker_cannot_read_is_a_500(host: Host) -> None:
    # Regression: the worker parses Expires with dateutil and fails the invocation after the
    # handler returned (a bare host error, no request id); the adapter now answers polyfn's 500.
    status, _, cookies, body = encoded_response(
        host.http("bad_expires", http_fixture("https://h/api/bad-expires"))
    )
    assert status == 500
    assert json.loads(body)["error"] == "internal error"
    assert json.loads(body)["request_id"]
    assert cookies == []


def test_large_binary_request_body(host: Host, seen: Seen) -> None:
    payload = bytes(range(256)) * 24 * 1024  # 6 MiB
    status, _, _, body = encoded_response(
        host.http(
            "foo",
            http_fixture(
                "https://h/api/foo",
                method="POST",
                headers={"content-type": "application/octet-stream"},
                body=payload,
            ),
        )
    )
    assert status == 200
    assert body == payload
    assert seen.only("foo").body == payload


# -- blob and Event Grid --------------------------------------------------------------------------


def test_library_blob_trigger(host: Host, seen: Seen) -> None:
    host.call("workitems", published("blob_with_trigger_metadata.json"))
    event = seen.only("workitems")
    assert (event.kind, event.bucket, event.key) == (
        "created",
        "samples-workitems",
        "blob_trigger_name",
    )
    assert event.size == 12  # "12" in the properties
    assert isinstance(event.size, int)
    assert event.etag == "0x8D8989BC453467D"
    assert event.content_type == "application/octet-stream"
    assert event.time == datetime(2020, 12, 4, 21, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize("name", ["dir/a b.txt", "dir/ünïcødé ✓.csv", "a+b%2Bc.txt", "x/ 'q'"])
def test_blob_names_arrive_verbatim(host: Host, seen: Seen, name: str) -> None:
    fixture = published("blob_with_trigger_metadata.json")
    fixture["metadata"]["BlobTrigger"]["value"] = f"samples-workitems/{name}"
    host.call("workitems", fixture)
    assert seen.only("workitems").key == name


def test_docs_event_grid_blob_created(host: Host, seen: Seen) -> None:
    host.call("eg_test_container", published("eventgrid_docs_blob_created.json"))
    event = seen.only("test-container")
    # The docs' url names another container ("testcontainer") than the subject: the subject says
    # which container the event is for and the name comes from it.
    assert (event.kind, event.bucket, event.key) == ("created", "test-container", "new-file.txt")
    assert event.size == 524288
    assert event.etag == '"0x8D4BCC2E4835CD0"'
    assert event.content_type == "text/plain"
    assert event.time == datetime(2017, 6, 26, 18, 41, 0, 958410, tzinfo=UTC)


def test_docs_cloudevents_blob_deleted(host: Host, seen: Seen) -> None:
    host.call("eg_testcontainer", published("cloudevents_docs_blob_deleted.json"))
    event = seen.only("testcontainer")
    assert (event.kind, event.bucket, event.key) == (
        "deleted",
        "testcontainer",
        "file-to-delete.txt",
    )
    assert event.size is None
    assert event.etag is None
    assert event.time == datetime(2017, 11, 7, 20, 9, 22, 567400, tzinfo=UTC)


def test_docs_data_lake_blob_created_has_size_zero(host: Host, seen: Seen) -> None:
    host.call("eg_my_file_system", published("cloudevents_docs_adls_blob_created.json"))
    event = seen.only("my-file-system")
    assert (event.kind, event.key) == ("created", "new-file.txt")
    assert event.size == 0


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("dir/a b+c.txt", "dir/a%20b+c.txt"),
        ("ünïcødé/ß.txt", "%C3%BCn%C3%AFc%C3%B8d%C3%A9/%C3%9F.txt"),
        ("100%25 sure.txt", "100%2525%20sure.txt"),
        ("q?x=1#y.txt", "q%3Fx%3D1%23y.txt"),
        ("uploads/nested/uploads.txt", "uploads/nested/uploads.txt"),
    ],
)
def test_event_grid_url_is_percent_decoded(host: Host, seen: Seen, name: str, encoded: str) -> None:
    fixture = published("eventgrid_docs_blob_created.json")
    event = fixture["data"]["value"]
    event["subject"] = f"/blobServices/default/containers/uploads/blobs/{name}"
    event["data"]["url"] = f"https://my-storage-account.blob.core.windows.net/uploads/{encoded}"
    host.call("eg_uploads", fixture)
    assert seen.only("uploads").key == name


# -- queues -------------------------------------------------------------------------------------


def test_library_storage_queue_message(host: Host, seen: Seen) -> None:
    host.call("orders", published("queue_in_converter_decode.json"))
    msg = seen.only("orders")
    assert msg.id == "1"
    assert msg.body == b"test_body"
    assert msg.delivery_count == 10
    assert msg.enqueued_time == datetime(2022, 1, 12, 3, 16, 34, tzinfo=UTC)
    assert msg.queue == "orders"


@pytest.mark.parametrize(
    ("body", "check"),
    [
        (b'{"order": 42, "items": ["a"]}', lambda m: m.json() == {"order": 42, "items": ["a"]}),
        (b"plain text, caf\xc3\xa9", lambda m: m.text == "plain text, café"),
        (b"\x00\x01\xfe\xff binary", lambda m: m.body == b"\x00\x01\xfe\xff binary"),
        (b"", lambda m: m.body == b""),
    ],
)
def test_storage_queue_bodies(host: Host, seen: Seen, body: bytes, check: Any) -> None:
    fixture = published("queue_in_converter_decode.json")
    fixture["data"] = {"type": "bytes", "base64": base64.b64encode(body).decode()}
    host.call("orders", fixture)
    assert check(seen.only("orders"))


def test_library_service_bus_message(host: Host, seen: Seen) -> None:
    host.call("payments", published("servicebus_single_trigger_metadata.json"))
    msg = seen.only("payments")
    assert msg.id == "abcee18397398d93891830a0aac89eed"
    assert msg.json() == {"lucky_number": 23}
    assert msg.delivery_count == 571
    assert msg.group == "mocked_session_id"
    assert msg.attributes == {"application": "value"}
    # The naive EnqueuedTimeUtc of the test is UTC.
    assert msg.enqueued_time == datetime(2020, 6, 18, 5, 39, 12, 286041, tzinfo=UTC)


def test_service_bus_message_without_delivery_count_is_a_first_delivery(
    host: Host, seen: Seen
) -> None:
    # Regression: metadata without DeliveryCount (the library's non-existing-property test) used
    # to fail the invocation, so a readable message was retried until dead-lettered.
    host.call("payments", published("servicebus_non_existing_property.json"))
    msg = seen.only("payments")
    assert msg.delivery_count == 1
    assert msg.attributes == {"UserId": "1"}
    assert msg.enqueued_time is None


def test_service_bus_property_types_become_strings(host: Host, seen: Seen) -> None:
    fixture = published("servicebus_single_trigger_metadata.json")
    fixture["metadata"]["ApplicationProperties"]["value"] = {
        "text": "web",
        "count": 5,
        "ratio": 1.5,
        "urgent": True,
        "none": None,
        "when": "2020-06-18T05:39:12.2860411Z",
        "nested": {"a": [1, "é"]},
    }
    host.call("payments", fixture)
    assert seen.only("payments").attributes == {
        "text": "web",
        "count": "5",
        "ratio": "1.5",
        "urgent": "true",
        "none": "null",
        "when": "2020-06-18T05:39:12.2860411Z",
        # Regression: JSON, not a Python repr ("{'a': [1, 'é']}").
        "nested": '{"a": [1, "é"]}',
    }


# -- timer --------------------------------------------------------------------------------------


def test_library_timer_with_an_offset_is_utc(host: Host, seen: Seen) -> None:
    host.call("every5", published("timer_decode_offset.json"))
    event = seen.only("every5")
    assert event.scheduled_time == datetime(2022, 3, 28, 20, 45, tzinfo=UTC)
    assert event.scheduled_time.utcoffset().total_seconds() == 0
    assert event.past_due is False
