"""polyfn's handles on Google Cloud, against the emulators on 127.0.0.1.

Cloud Storage runs on gcp-storage-emulator, Pub/Sub and Firestore on the Cloud SDK's emulators,
Secret Manager on a fake service that answers as its REST reference shows (no emulator exists:
these cells are marked "fake transport"). Consumers are reached through polyfn_gcp's real entry
points under functions-framework's own app, with the messages the emulator actually holds.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest

from conformance.resource_harnesses import gcp_push_delivery, pubsub_push_body
from polyfn import (
    App,
    Bucket,
    Conflict,
    Context,
    NotFound,
    Queue,
    QueueMessage,
    ResourceError,
    Secret,
    Table,
    Topic,
)
from tests.resources_gcp.conftest import PROJECT

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("gcp_env")]

ODD_KEYS = [
    "plain.txt",
    "with space.txt",
    "plus+sign.csv",
    "per%25cent %41.bin",
    "dir/sub dir/ünïcødé ✓.json",
    "a/b/c/",
]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def bucket() -> Bucket:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    name = _name("polyfn-b")
    storage.Client(project=PROJECT, credentials=AnonymousCredentials()).create_bucket(name)
    return Bucket(name)


def _pubsub_pair(ordering: bool = False) -> tuple[str, str]:
    from google.cloud import pubsub_v1

    topic, sub = _name("t"), _name("s")
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(PROJECT, topic)
    publisher.create_topic(name=topic_path)
    subscriber.create_subscription(
        request={
            "name": subscriber.subscription_path(PROJECT, sub),
            "topic": topic_path,
            "enable_message_ordering": ordering,
        }
    )
    return topic, sub


def _pull(sub: str, count: int) -> list[Any]:
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(PROJECT, sub)
    got: list[Any] = []
    for _ in range(20):
        response = subscriber.pull(
            request={"subscription": path, "max_messages": count}, timeout=10
        )
        got.extend(response.received_messages)
        if len(got) >= count:
            break
    subscriber.acknowledge(request={"subscription": path, "ack_ids": [m.ack_id for m in got]})
    return got


def _push_body(received: Any, sub: str) -> dict[str, Any]:
    return pubsub_push_body(received, PROJECT, sub)


def _consume(queue_name: str, body: dict[str, Any]) -> QueueMessage:
    """Deliver a push body to a polyfn queue function through polyfn_gcp's real HTTP entry."""
    return gcp_push_delivery(queue_name, body)


def _flask_app(create_app: Any, module: Any) -> Any:
    import pathlib
    import sys
    import tempfile

    folder = pathlib.Path(tempfile.mkdtemp())
    source = folder / "main.py"
    name = f"consumer_{uuid.uuid4().hex[:8]}"
    sys.modules[name] = module
    source.write_text(f"import sys\nhttp = sys.modules[{name!r}].http\n")
    return create_app("http", str(source), "http")


# -- Cloud Storage -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ODD_KEYS)
def test_bucket_round_trips_binary_under_odd_keys(bucket: Bucket, key: str) -> None:
    data = bytes(range(256)) + "ünïcødé".encode()
    bucket.write(key, data, content_type="application/x-test", metadata={"who": "polyfn"})
    assert bucket.read(key) == data
    info = bucket.info(key)
    assert info is not None
    assert (info.key, info.size, info.content_type) == (key, len(data), "application/x-test")
    assert info.metadata == {"who": "polyfn"}
    assert info.etag
    assert info.updated is not None and info.updated.tzinfo is not None
    assert [o.key for o in bucket.list(key)] == [key]


def test_bucket_text_missing_and_delete(bucket: Bucket) -> None:
    bucket.write("t.txt", "héllo")
    assert bucket.read("t.txt") == "héllo".encode()
    info = bucket.info("t.txt")
    assert info is not None and info.content_type is not None
    assert info.content_type.startswith("text/plain")
    assert bucket.info("absent") is None
    with pytest.raises(NotFound) as caught:
        bucket.read("absent")
    assert caught.value.__cause__ is not None  # the SDK's exception stays attached
    bucket.delete("t.txt")
    bucket.delete("t.txt")  # a second delete is not an error
    assert bucket.info("t.txt") is None


def test_bucket_lists_past_one_page(bucket: Bucket) -> None:
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"many/{i:05d}" for i in range(1005)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: bucket.write(k, b"x"), keys))
    bucket.write("other/one", b"y")
    listed = [o.key for o in bucket.list("many/")]
    assert listed == keys  # every object once, in key order, across pages of 1,000


def test_bucket_key_is_the_storage_event_key(bucket: Bucket) -> None:
    """The object resource the emulator stores is the data of a storage CloudEvent: the key
    polyfn_gcp reads from it is the key written."""
    import polyfn_gcp
    from cloudevents.conversion import to_structured
    from cloudevents.http import CloudEvent
    from functions_framework import create_app
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    key = "dir/sub dir/plus+ %41 ✓.csv"
    bucket.write(key, b"a,b\n")
    blob = (
        storage.Client(project=PROJECT, credentials=AnonymousCredentials())
        .bucket(bucket.name)
        .get_blob(key)
    )
    seen: list[str] = []
    app = App("s")

    @app.storage(bucket)
    def on_object(event: Any, ctx: Context) -> None:
        seen.append(event.key)

    import types

    module = types.ModuleType("m")
    module.event = polyfn_gcp.cloud_event(app)  # type: ignore[attr-defined]
    name = f"storage_{uuid.uuid4().hex[:8]}"
    import pathlib
    import sys
    import tempfile

    sys.modules[name] = module
    source = pathlib.Path(tempfile.mkdtemp()) / "main.py"
    source.write_text(f"import sys\nevent = sys.modules[{name!r}].event\n")
    flask_app = create_app("event", str(source), "cloudevent")
    event = CloudEvent(
        {
            "type": "google.cloud.storage.object.v1.finalized",
            "source": f"//storage.googleapis.com/projects/_/buckets/{bucket.name}",
            "subject": f"objects/{key}",
        },
        blob._properties,
    )
    headers, body = to_structured(event)
    response = flask_app.test_client().post("/", headers=headers, data=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert seen == [key]


def test_signed_url_signs_with_a_key(bucket: Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    """V4 signing with service-account credentials (a key made here; nothing is sent)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    from polyfn._resources import backend_for

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    credentials = service_account.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "client_email": f"fn@{PROJECT}.iam.gserviceaccount.com",
            "private_key": pem,
            "token_uri": "https://oauth2.googleapis.com/token",
            "project_id": PROJECT,
        }
    )
    client = backend_for("gcp")._storage.get()  # type: ignore[attr-defined]
    monkeypatch.setattr(client, "_credentials", credentials)
    url = bucket.signed_url("dir/a b+c.txt", "PUT", timedelta(minutes=5))
    assert f"/{bucket.name}/dir/a%20b%2Bc.txt?" in url
    assert "X-Goog-Signature=" in url and "X-Goog-Expires=300" in url
    assert f"fn%40{PROJECT}.iam.gserviceaccount.com" in url
    with pytest.raises(ResourceError, match="GET or PUT"):
        bucket.signed_url("k", "DELETE")


# -- Pub/Sub ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\x00\xff binary \x80", b"\x00\xff binary \x80"),
        ("ünïcødé ✓", "ünïcødé ✓".encode()),
        ({"order": 7, "items": [[1, 2]]}, b'{"order":7,"items":[[1,2]]}'),
    ],
)
def test_send_reaches_the_consumer_with_the_same_bytes(body: Any, expected: bytes) -> None:
    topic, sub = _pubsub_pair()
    queue = Queue(topic)
    message_id = queue.send(body, attributes={"kind": "order", "ü": "✓"})
    [received] = _pull(sub, 1)
    assert received.message.message_id == message_id
    assert received.message.data == expected  # on the wire: exactly the bytes
    msg = _consume(topic, _push_body(received, sub))
    assert msg.body == expected
    assert msg.attributes == {"kind": "order", "ü": "✓"}
    assert msg.id == message_id


def test_group_is_the_ordering_key() -> None:
    topic, sub = _pubsub_pair(ordering=True)
    queue = Queue(topic, fifo=True)
    for i in range(3):
        queue.send(f"m{i}", group="cart-1")
    received = _pull(sub, 3)
    assert [r.message.ordering_key for r in received] == ["cart-1"] * 3
    assert [r.message.data for r in received] == [b"m0", b"m1", b"m2"]
    msg = _consume(topic, _push_body(received[0], sub))
    assert msg.group == "cart-1"


def test_send_batch_reports_exactly_the_failed_entries() -> None:
    topic, sub = _pubsub_pair()
    result = Queue(topic).send_batch(
        [b"one", {"body": "two", "attributes": {"googbad": "x"}}, "three"]
    )
    assert [index for index, _ in result.failed] == [1]
    assert "goog" in str(result.failed[0][1])
    assert result.ids[1] is None and all(result.ids[i] for i in (0, 2))
    assert sorted(r.message.data for r in _pull(sub, 2)) == [b"one", b"three"]


def test_publish_fans_out_to_every_subscription() -> None:
    from google.cloud import pubsub_v1

    topic, first = _pubsub_pair()
    subscriber = pubsub_v1.SubscriberClient()
    second = _name("s")
    subscriber.create_subscription(
        request={
            "name": subscriber.subscription_path(PROJECT, second),
            "topic": f"projects/{PROJECT}/topics/{topic}",
        }
    )
    Topic(topic).publish({"event": "shipped"}, attributes={"v": "1"})
    for sub in (first, second):
        [received] = _pull(sub, 1)
        assert received.message.data == b'{"event":"shipped"}'
        assert dict(received.message.attributes) == {"v": "1"}


def test_pubsub_refusals_name_the_limit() -> None:
    topic, _ = _pubsub_pair()
    queue = Queue(topic)
    with pytest.raises(ResourceError, match="10000000"):
        queue.send(b"x" * 10_000_001)
    with pytest.raises(ResourceError, match="cannot delay"):
        queue.send(b"x", delay=30)
    with pytest.raises(NotFound, match="POLYFN_TOPIC"):
        Queue(_name("missing")).send(b"x")


# -- Firestore -------------------------------------------------------------------------------


def test_table_round_trip_and_conditional_writes() -> None:
    table = Table("carts" + uuid.uuid4().hex[:8])
    key = "user/1 + ü %2F"
    document = {"items": [[1, "a"], {"n": None}], "total": 12.5, "big": 2**70, "ok": True}
    assert table.get(key) is None
    v1 = table.put(key, document, if_absent=True)
    got = table.get(key)
    assert got == document and got is not None and got.version == v1
    with pytest.raises(Conflict):
        table.put(key, {"other": 1}, if_absent=True)
    v2 = table.put(key, {"total": 13}, if_version=v1)
    assert v2 != v1
    with pytest.raises(Conflict):
        table.put(key, {"total": 14}, if_version=v1)  # lost the race: v1 is stale
    with pytest.raises(Conflict):
        table.delete(key, if_version=v1)
    table.delete(key, if_version=v2)
    assert table.get(key) is None
    table.delete(key)  # deleting a missing document is not an error
    for reserved in (".", "..", "__x__"):
        table.put(reserved, {"k": reserved})
        assert table.get(reserved) == {"k": reserved}


def test_table_if_version_serialises_concurrent_writers() -> None:
    table = Table("counters" + uuid.uuid4().hex[:8])
    table.put("c", {"n": 0})

    def increment() -> None:
        for _ in range(50):
            current = table.get("c")
            assert current is not None
            try:
                table.put("c", {"n": current["n"] + 1}, if_version=current.version)
                return
            except Conflict:
                continue
        raise AssertionError("never won the race")

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert table.get("c") == {"n": 4}


# -- Secret Manager (fake transport: no emulator exists) ------------------------------------


def test_secret_value_over_the_rest_reference(secret_manager: Any) -> None:
    secret_manager.secrets["stripe-key"] = "sk_live_ü".encode()
    before = len(secret_manager.requests)
    secret = Secret("stripe-key", ttl=60)
    assert secret.value() == "sk_live_ü"
    assert secret.value() == "sk_live_ü"  # cached: one request
    assert [path.split("?")[0] for path in secret_manager.requests[before:]] == [
        f"/v1/projects/{PROJECT}/secrets/stripe-key/versions/latest:access"
    ]
    with pytest.raises(NotFound, match="POLYFN_SECRET"):
        Secret("absent").value()


# -- the uses= check in a real invocation --------------------------------------------------


def test_uses_is_enforced_inside_a_gcp_invocation(bucket: Bucket) -> None:
    import types

    import polyfn_gcp
    from functions_framework import create_app

    app = App("acts")

    @app.http("/ok", methods=["POST"], uses=[bucket.write, bucket.read])
    def ok(req: Any, ctx: Context) -> Any:
        bucket.write("k", req.body)
        return {"back": bucket.read("k").decode(), "provider": ctx.provider}

    @app.http("/sneaky", methods=["POST"], uses=[bucket.read])
    def sneaky(req: Any, ctx: Context) -> Any:
        bucket.write("k", b"nope")
        return {}

    module = types.ModuleType("acts_main")
    module.http = polyfn_gcp.http(app)  # type: ignore[attr-defined]
    flask_app = _flask_app(create_app, module)
    client = flask_app.test_client()
    ok_answer = client.post("/ok", data=b"hello")
    assert ok_answer.status_code == 200
    assert json.loads(ok_answer.data) == {"back": "hello", "provider": "gcp"}
    denied = client.post("/sneaky", data=b"x")
    assert denied.status_code == 500
    assert bucket.read("k") == b"hello"  # the undeclared write never happened
