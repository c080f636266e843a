"""Payloads published by Google's own projects (tests/events/gcp/published/, sources in its README)
posted to functions-framework's own app (create_app(...).test_client()) serving
tests/gcp/apps/published.py: CloudEvents in binary and structured content mode, legacy background
events that functions-framework converts, and the HTTP target. Each test asserts the neutral value
the handler saw."""

from __future__ import annotations

import base64
import copy
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import functions_framework
import pytest

SOURCE = Path(__file__).parent / "apps" / "published.py"
PUBLISHED = Path(__file__).parents[1] / "events" / "gcp" / "published"
STORAGE_SOURCE = "//storage.googleapis.com/projects/_/buckets/"
PUBSUB_SOURCE = "//pubsub.googleapis.com/projects/my-project/topics/"


def published(name: str) -> Any:
    return json.loads((PUBLISHED / name).read_text(encoding="utf-8"))


class Target:
    """One target of apps/published.py inside functions-framework's Flask app."""

    def __init__(self, target: str, signature_type: str) -> None:
        with pytest.MonkeyPatch.context() as mp:
            # create_app records its target and signature type in the environment; setting them
            # here first makes the context put back what was there (or nothing) afterwards.
            mp.setenv("FUNCTION_TARGET", target)
            mp.setenv("FUNCTION_SIGNATURE_TYPE", signature_type)
            flask_app = functions_framework.create_app(  # type: ignore[no-untyped-call]
                target, str(SOURCE), signature_type
            )
            # functions-framework loads the source as a module named after its file.
            self.module: ModuleType = sys.modules[SOURCE.stem]
        # No cookie jar: the Cookie header a test sends reaches the app as sent.
        self.client = flask_app.test_client(use_cookies=False)

    def seen(self) -> list[tuple[str, Any]]:
        seen: list[tuple[str, Any]] = self.module.SEEN
        return seen

    def take(self) -> list[tuple[str, Any]]:
        out = list(self.seen())
        self.seen().clear()
        return out


@pytest.fixture(scope="module")
def events() -> Target:
    return Target("event", "cloudevent")


@pytest.fixture(scope="module")
def http() -> Target:
    return Target("http", "http")


@pytest.fixture(autouse=True)
def _clean(events: Target, http: Target) -> None:
    events.seen().clear()
    http.seen().clear()


def structured(target: Target, event: dict[str, Any]) -> Any:
    return target.client.post(
        "/",
        data=json.dumps(event),
        headers={"Content-Type": "application/cloudevents+json; charset=utf-8"},
    )


def binary(target: Target, event: dict[str, Any]) -> Any:
    # Header values travel percent-encoded where they are not printable ASCII (CloudEvents HTTP
    # binding 3.1.3.2); the data is the JSON body.
    from urllib.parse import quote

    headers = {
        f"ce-{k}": quote(str(v), safe="/:+=@,;-_.~ ")
        for k, v in event.items()
        if k not in ("data", "datacontenttype")
    }
    headers["Content-Type"] = event.get("datacontenttype", "application/json")
    return target.client.post("/", data=json.dumps(event["data"]), headers=headers)


MODES = [structured, binary]


def cloud_event(ce_type: str, source: str, data: Any, **attributes: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": ce_type,
        "source": source,
        "id": "published-1",
        "datacontenttype": "application/json",
        **attributes,
        "data": data,
    }


def delivered(target: Target, send: Any, event: dict[str, Any]) -> list[tuple[str, Any]]:
    resp = send(target, event)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return target.take()


def names(seen: list[tuple[str, Any]]) -> list[str]:
    return sorted(name for name, _ in seen)


# -- Cloud Storage --------------------------------------------------------------------------------


@pytest.mark.parametrize("send", MODES)
def test_complex_object_deleted(events: Target, send: Any) -> None:
    event = cloud_event(
        "google.cloud.storage.object.v1.deleted",
        STORAGE_SOURCE + "sample-bucket",
        published("storage_object_data_complex.json"),
        subject="objects/MyFile",
        time="2020-05-18T09:07:51.799Z",
    )
    seen = delivered(events, send, event)
    assert names(seen) == ["sample_any"]  # sample_created takes creations only
    storage = seen[0][1]
    assert (storage.kind, storage.bucket, storage.key) == ("deleted", "sample-bucket", "MyFile")
    assert storage.size == 0  # a JSON number 0, not "absent"
    assert storage.version == "96883251"  # generation as a JSON number
    assert storage.etag == "COu8mb3Dn+kCEAE="
    assert storage.content_type == "esse commodo"
    assert storage.time == datetime(2020, 5, 18, 9, 7, 51, 799000, tzinfo=UTC)


@pytest.mark.parametrize("send", MODES)
def test_workflows_object_finalized(events: Target, send: Any) -> None:
    event = cloud_event(
        "google.cloud.storage.object.v1.finalized",
        STORAGE_SOURCE + "my-bucket",
        published("storage_object_data_workflows_simple.json"),
        subject="objects/my-file.txt",
        time="2021-11-25T21:04:32.279Z",
    )
    [(name, storage)] = delivered(events, send, event)
    assert name == "my_bucket"
    assert (storage.kind, storage.key, storage.size) == ("created", "my-file.txt", 13)
    assert isinstance(storage.size, int)
    assert storage.version == "1637874272256630"
    assert storage.content_type == "text/plain"
    assert storage.time == datetime(2021, 11, 25, 21, 4, 32, 279000, tzinfo=UTC)


@pytest.mark.parametrize("send", MODES)
def test_conformance_storage_cloudevent(events: Target, send: Any) -> None:
    # Its source carries the object path and it has no subject: data.bucket and data.name say it.
    [(name, storage)] = delivered(
        events, send, published("ff_conformance_storage_cloudevent_input.json")
    )
    assert name == "some_folder"
    assert (storage.kind, storage.bucket, storage.key) == (
        "created",
        "some-bucket",
        "folder/Test.cs",
    )
    assert storage.size == 352
    assert storage.version == "1587627537231057"
    assert storage.time == datetime(2020, 9, 29, 11, 32, tzinfo=UTC)


def test_conformance_storage_legacy_event_matches_its_cloudevent(events: Target) -> None:
    resp = events.client.post("/", json=published("ff_conformance_storage_legacy_input.json"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [(_, legacy)] = events.take()
    [(_, modern)] = delivered(
        events, structured, published("ff_conformance_storage_cloudevent_input.json")
    )
    fields = ("kind", "bucket", "key", "size", "etag", "content_type", "version", "time")
    assert [getattr(legacy, f) for f in fields] == [getattr(modern, f) for f in fields]


def test_legacy_object_change_of_a_deleted_object_is_a_deletion(events: Target) -> None:
    # Regression: functions-framework converts every legacy object.change to ...finalized; the
    # data's resourceState "not_exists" says the object was deleted, so a created-only function
    # must not run and the others see "deleted".
    legacy = published("ff_conformance_legacy_storage_change_input.json")
    resp = events.client.post("/", json=legacy)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [(name, storage)] = events.take()
    assert name == "sample_any"
    assert (storage.kind, storage.bucket, storage.key) == ("deleted", "sample-bucket", "MyFile")
    assert storage.size == 0
    assert storage.time == datetime(2020, 9, 29, 11, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "metageneration", "kind", "functions"),
    [
        ("exists", "1", "created", ["sample_any", "sample_created"]),
        ("exists", "3", "metadata_updated", ["sample_any"]),
    ],
)
def test_legacy_object_change_of_an_existing_object(
    events: Target, state: str, metageneration: str, kind: str, functions: list[str]
) -> None:
    legacy = published("ff_conformance_legacy_storage_change_input.json")
    legacy["data"]["resourceState"] = state
    legacy["data"]["metageneration"] = metageneration
    assert events.client.post("/", json=legacy).status_code == 200
    seen = events.take()
    assert names(seen) == functions
    assert {storage.kind for _, storage in seen} == {kind}


@pytest.mark.parametrize("send", MODES)
@pytest.mark.parametrize("key", ["dir/a b+c.txt", "ünïcødé/ß ✓.csv", "100% sure?#.txt"])
def test_object_names_arrive_verbatim(events: Target, send: Any, key: str) -> None:
    data = published("storage_object_data_workflows_simple.json")
    data["name"] = key
    event = cloud_event(
        "google.cloud.storage.object.v1.finalized",
        STORAGE_SOURCE + "my-bucket",
        data,
        subject=f"objects/{key}",
        time="2021-11-25T21:04:32.279Z",
    )
    [(_, storage)] = delivered(events, send, event)
    assert storage.key == key


@pytest.mark.parametrize("send", MODES)
def test_missing_optional_fields(events: Target, send: Any) -> None:
    data = {"bucket": "my-bucket", "name": "bare.bin"}
    event = cloud_event(
        "google.cloud.storage.object.v1.archived",
        STORAGE_SOURCE + "my-bucket",
        data,
        subject="objects/bare.bin",
        time="2021-11-25T22:04:32.279+01:00",
    )
    [(_, storage)] = delivered(events, send, event)
    assert storage.kind == "archived"
    assert (storage.size, storage.etag, storage.content_type, storage.version) == (
        None,
        None,
        None,
        None,
    )
    # An offset is turned into UTC.
    assert storage.time == datetime(2021, 11, 25, 21, 4, 32, 279000, tzinfo=UTC)
    assert storage.time.tzinfo is UTC


# -- Pub/Sub ------------------------------------------------------------------------------------


@pytest.mark.parametrize("send", MODES)
def test_message_published_text(events: Target, send: Any) -> None:
    event = cloud_event(
        "google.cloud.pubsub.topic.v1.messagePublished",
        PUBSUB_SOURCE + "my-topic",
        published("message_published_data_text.json"),
        time="2021-02-05T04:06:14.109Z",
    )
    [(name, msg)] = delivered(events, send, event)
    assert name == "my_topic"
    assert msg.queue == "my-topic"
    assert msg.id == "message-id"
    assert msg.body == b"test message 3"
    assert msg.attributes == {"attr1": "attr1-value"}
    assert msg.delivery_count == 1
    assert msg.group is None
    assert msg.enqueued_time == datetime(2021, 2, 5, 4, 6, 14, 109000, tzinfo=UTC)


@pytest.mark.parametrize("send", MODES)
@pytest.mark.parametrize(
    "fixture",
    ["message_published_data_binary.json", "message_published_data_duplicated_fields.json"],
)
def test_message_published_binary(events: Target, send: Any, fixture: str) -> None:
    event = cloud_event(
        "google.cloud.pubsub.topic.v1.messagePublished",
        PUBSUB_SOURCE + "my-topic",
        published(fixture),
    )
    [(_, msg)] = delivered(events, send, event)
    assert msg.body == b"\x01\x02\x03\x04"
    assert msg.id == "message-id"
    assert msg.attributes == {}
    duplicated = fixture.endswith("duplicated_fields.json")
    assert msg.enqueued_time == (
        datetime(2021, 2, 5, 4, 6, 14, 109000, tzinfo=UTC) if duplicated else None
    )


@pytest.mark.parametrize("send", MODES)
def test_conformance_pubsub_cloudevent(events: Target, send: Any) -> None:
    [(name, msg)] = delivered(
        events, send, published("ff_conformance_pubsub_binary_cloudevent_input.json")
    )
    assert name == "gcf_test"
    assert msg.body == b"\x01\x02\x03\x04"
    assert msg.id == "aaaaaa-1111-bbbb-2222-cccccccccccc"
    assert msg.enqueued_time == datetime(2020, 9, 29, 11, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fixture", "body", "attributes"),
    [
        (
            "ff_conformance_legacy_pubsub_input.json",
            b"This is a sample message",
            {"attribute1": "value1"},
        ),
        ("ff_pubsub_text_legacy_input.json", b"test message 3", {"attr1": "attr1-value"}),
    ],
)
def test_legacy_pubsub_events(
    events: Target, fixture: str, body: bytes, attributes: dict[str, str]
) -> None:
    resp = events.client.post("/", json=published(fixture))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [(name, msg)] = events.take()
    assert name == "gcf_test"
    assert msg.queue == "gcf-test"
    assert msg.body == body
    assert msg.attributes == attributes
    # functions-framework fills messageId and publishTime from the legacy context.
    assert msg.id == "aaaaaa-1111-bbbb-2222-cccccccccccc"
    assert msg.enqueued_time == datetime(2020, 9, 29, 11, 32, tzinfo=UTC)
    assert msg.delivery_count == 1


@pytest.mark.parametrize("send", MODES)
def test_message_with_attributes_only(events: Target, send: Any) -> None:
    data = copy.deepcopy(published("message_published_data_text.json"))
    del data["message"]["data"]
    data["deliveryAttempt"] = 4
    data["message"]["orderingKey"] = "customer-7"
    event = cloud_event(
        "google.cloud.pubsub.topic.v1.messagePublished", PUBSUB_SOURCE + "my-topic", data
    )
    [(_, msg)] = delivered(events, send, event)
    assert msg.body == b""
    assert msg.attributes == {"attr1": "attr1-value"}
    assert msg.delivery_count == 4
    assert msg.group == "customer-7"


@pytest.mark.parametrize("send", MODES)
def test_unpadded_base64_data(events: Target, send: Any) -> None:
    # Regression: message data is a protobuf bytes field, whose JSON form may drop the padding
    # (functions-framework's own PUBSUB_CLOUD_EVENT sends "10"); it used to fail the delivery.
    [(name, msg)] = delivered(events, send, published("ff_convert_pubsub_cloud_event.json"))
    assert name == "gcf_test"
    assert msg.body == b"\xd7"
    assert msg.id == "1215011316659232"
    assert msg.enqueued_time == datetime(2020, 5, 18, 12, 13, 19, tzinfo=UTC)


def test_background_event_with_unpadded_data(events: Target) -> None:
    resp = events.client.post("/", json=published("ff_convert_pubsub_background_event.json"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [(_, msg)] = events.take()
    assert (msg.queue, msg.body, msg.id) == ("gcf-test", b"\xd7", "1215011316659232")


@pytest.mark.parametrize("send", MODES)
def test_url_safe_base64_data(events: Target, send: Any) -> None:
    data = published("message_published_data_binary.json")
    data["message"]["data"] = "-_-_-w"  # URL-safe alphabet, no padding: the proto3 JSON mapping
    event = cloud_event(
        "google.cloud.pubsub.topic.v1.messagePublished", PUBSUB_SOURCE + "my-topic", data
    )
    [(_, msg)] = delivered(events, send, event)
    assert msg.body == b"\xfb\xff\xbf\xfb"


def test_raw_push_body_to_the_cloud_event_target(events: Target) -> None:
    # functions-framework turns a push body posted to a path naming the topic into a CloudEvent,
    # stamping the publishTime the body lacks with the time it converts it.
    before = datetime.now(UTC).replace(microsecond=0)
    resp = events.client.post(
        "/x/projects/sample-project/topics/gcf-test?pubsub_trigger=true",
        json=published("ff_convert_raw_pubsub_request.json"),
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [(name, msg)] = events.take()
    assert name == "gcf_test"
    assert msg.json() == {"foo": "bar"}
    assert msg.attributes == {"test": "123"}
    assert msg.id == "1215011316659232"
    assert msg.enqueued_time is not None
    assert before <= msg.enqueued_time <= datetime.now(UTC), msg.enqueued_time


def test_raw_push_body_to_the_http_target(http: Target) -> None:
    resp = http.client.post(
        "/_polyfn/queue/gcf-test", json=published("ff_convert_raw_pubsub_request.json")
    )
    assert resp.status_code == 204, resp.get_data(as_text=True)
    [(name, msg)] = http.take()
    assert name == "gcf_test"
    assert (msg.queue, msg.body) == ("gcf-test", b'{"foo":"bar"}')
    assert msg.attributes == {"test": "123"}
    assert msg.enqueued_time is None  # the emulator's body carries no publishTime


def ce_headers(event_type: str, source: str, **overrides: str) -> dict[str, str]:
    """functions-framework's create_ce_headers(event_type, source), binary content mode."""
    headers: dict[str, str] = published("ff_convert_ce_headers.json")["create_ce_headers"]
    return {**headers, "ce-type": event_type, "ce-source": source, **overrides}


def test_storage_event_whose_time_has_no_offset(events: Target) -> None:
    # Regression: a ce-time without an offset (as functions-framework's tests write it) failed
    # the delivery; it is UTC.
    headers = ce_headers(
        "google.cloud.storage.object.v1.finalized",
        STORAGE_SOURCE + "some-bucket",
        **{"ce-subject": "objects/folder/Test.cs"},
    )
    data = published("ff_conformance_storage_cloudevent_input.json")["data"]
    resp = events.client.post("/", headers=headers, json=data)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [(name, storage)] = events.take()
    assert (name, storage.key) == ("some_folder", "folder/Test.cs")
    assert storage.time == datetime(2020, 8, 16, 13, 58, 54, 471765, tzinfo=UTC)


def test_pubsub_message_with_functions_framework_headers(events: Target) -> None:
    headers = ce_headers(
        "google.cloud.pubsub.topic.v1.messagePublished",
        "//pubsub.googleapis.com/projects/sample-project/topics/gcf-test",
    )
    data = published("ff_convert_ce_headers.json")["pubsub_message_payload"]
    resp = events.client.post("/", headers=headers, json=data)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [(name, msg)] = events.take()
    assert name == "gcf_test"
    assert msg.body == base64.b64decode("fizzbuzz")
    assert msg.id == "aaaaaa-1111-bbbb-2222-cccccccccccc"
    assert msg.enqueued_time == datetime(2020, 9, 29, 11, 32, tzinfo=UTC)


# -- HTTP ---------------------------------------------------------------------------------------


def test_query_plus_percent_and_repeated_keys(http: Target) -> None:
    resp = http.client.get("/echo/a%20b/c%2Bd?q=1+2&q=%2B&q=3&e=&amp=a%26b&u=caf%C3%A9")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["path"] == "/echo/a b/c+d"
    assert body["rest"] == "a b/c+d"
    assert body["query"] == [
        ["q", "1 2"],
        ["q", "+"],
        ["q", "3"],
        ["e", ""],
        ["amp", "a&b"],
        ["u", "café"],
    ]


def test_several_cookies(http: Target) -> None:
    resp = http.client.get(
        "/echo/c", headers={"Cookie": 'session=abc123; theme=dark; quoted="a b"; empty='}
    )
    assert resp.get_json()["cookies"] == {
        "session": "abc123",
        "theme": "dark",
        "quoted": "a b",
        "empty": "",
    }


def test_head_request(http: Target) -> None:
    resp = http.client.head("/echo/x")
    assert resp.status_code == 200
    assert resp.data == b""
    assert resp.headers["Content-Type"] == "application/json"
    [(_, req)] = http.take()
    assert req.method == "HEAD"


def test_large_binary_body(http: Target) -> None:
    payload = bytes(range(256)) * 24 * 1024  # 6 MiB
    resp = http.client.post(
        "/echo/big", data=payload, headers={"Content-Type": "application/octet-stream"}
    )
    assert resp.status_code == 200
    assert resp.get_json()["size"] == len(payload)
    [(_, req)] = http.take()
    assert req.body == payload


def test_several_set_cookies_and_a_binary_body(http: Target) -> None:
    resp = http.client.get("/cookies")
    assert resp.status_code == 200
    assert resp.data == bytes(range(256))
    assert resp.headers["Content-Type"] == "application/octet-stream"
    cookies = resp.headers.getlist("Set-Cookie")
    assert [c.split("=", 1)[0] for c in cookies] == ["session", "theme", "gone"]
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]
    assert "Expires=Thu, 01 Jan 2026 00:00:00 GMT" in cookies[1]
    assert "Max-Age=0" in cookies[2]
