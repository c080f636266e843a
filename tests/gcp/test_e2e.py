"""A real `functions-framework` process (gunicorn, as Cloud Run runs it) on 127.0.0.1, spoken to
over HTTP: the same entry module, nothing in between."""

from __future__ import annotations

import base64
import http.client
import json

import pytest

from tests.gcp.conftest import load_event

pytestmark = pytest.mark.e2e


def test_http_request_round_trip_over_a_socket(ff_http_server):
    blob = bytes(range(256))
    status, _, body = ff_http_server.send(
        "POST",
        "/echo/caf%C3%A9/x?k=1&k=2&empty=",
        blob,
        {"Content-Type": "application/octet-stream", "X-Forwarded-For": "203.0.113.5",
         "Cookie": "a=1; b=two"},
    )  # fmt: skip
    assert status == 200, body
    seen = json.loads(body)
    assert seen["path"] == "/echo/café/x"
    assert seen["query"] == [["k", "1"], ["k", "2"], ["empty", ""]]
    assert base64.b64decode(seen["body_b64"]) == blob
    assert seen["cookies"] == {"a": "1", "b": "two"}
    assert seen["source_ip"] == "203.0.113.5"
    assert seen["invocation_id"]  # functions-framework's execution id


def test_several_set_cookie_headers_reach_the_client(ff_http_server):
    conn = http.client.HTTPConnection(ff_http_server.base.removeprefix("http://"), timeout=10)
    try:
        conn.request("GET", "/cookies")
        resp = conn.getresponse()
        resp.read()
        cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        multi = [v for k, v in resp.getheaders() if k.lower() == "x-multi"]
    finally:
        conn.close()
    assert resp.status == 200
    assert cookies == ["a=1; Path=/; HttpOnly", "b=2; Max-Age=60; Path=/"]
    assert multi == ["one", "two"]


def test_binary_response_and_500_without_traceback(ff_http_server):
    status, headers, body = ff_http_server.send("POST", "/binary", b"\x00\x80\xff")
    assert (status, body, headers["Content-Type"]) == (
        201,
        b"\xff\x80\x00",
        "application/octet-stream",
    )
    status, _, body = ff_http_server.send("GET", "/boom")
    assert status == 500 and b"secret" not in body and b"Traceback" not in body


def test_scheduler_tick_and_push_over_a_socket(ff_http_server):
    request = load_event("scheduler_http.json")
    status, _, _ = ff_http_server.send(request["method"], request["path"], b"", request["headers"])
    assert status == 204
    push = json.dumps(load_event("pubsub_push.json")).encode()
    status, _, _ = ff_http_server.send(
        "POST", "/_polyfn/queue/orders", push, {"Content-Type": "application/json"}
    )
    assert status == 204
    fns = [r["fn"] for r in ff_http_server.records()]
    assert "nightly" in fns and "on_order" in fns


def test_cloudevents_binary_structured_and_failure_over_a_socket(ff_event_server):
    before = len(ff_event_server.records())  # the session's server may have served other tests
    event = load_event("storage_cloudevent.json")
    headers = {f"ce-{k}": v for k, v in event.items() if k not in ("data", "datacontenttype")}
    headers["Content-Type"] = "application/json"
    status, _, body = ff_event_server.send("POST", "/", json.dumps(event["data"]).encode(), headers)
    assert status == 200, body
    published = load_event("pubsub_cloudevent.json")
    status, _, body = ff_event_server.send(
        "POST",
        "/",
        json.dumps(published).encode(),
        {"Content-Type": "application/cloudevents+json"},
    )
    assert status == 200, body
    published["data"]["message"]["data"] = base64.b64encode(b"fail").decode()
    status, _, _ = ff_event_server.send(
        "POST",
        "/",
        json.dumps(published).encode(),
        {"Content-Type": "application/cloudevents+json"},
    )
    assert status == 500  # not acknowledged: Eventarc / Pub/Sub redeliver
    records = ff_event_server.records()[before:]
    assert [r["fn"] for r in records] == ["on_upload", "on_order", "on_order"]
    assert records[0]["key"] == "incoming/report 2024+final é.csv"
    assert records[1]["delivery_count"] == 3


def test_legacy_background_event_over_a_socket(ff_event_server):
    body = json.dumps(load_event("storage_legacy.json")).encode()
    status, _, _ = ff_event_server.send("POST", "/", body, {"Content-Type": "application/json"})
    assert status == 200
    assert ff_event_server.records()[-1]["key"] == "folder/Test.cs"
