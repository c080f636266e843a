"""polyfn's handles on Azure, against Azurite on 127.0.0.1 (blobs, Storage queues, tables).

Service Bus and Key Vault have no emulator here: Key Vault runs over a fake azure-core transport
that answers as its REST reference shows ("fake transport"); Service Bus speaks AMQP, which no
fake here can answer, so its cells check the messages azure-servicebus itself builds, handed to a
recording sender ("no broker"). Consumers are reached through polyfn_azure's real function app,
with azure-functions' own converters over the Datum the host would send.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

import azure.storage.queue as queue_storage
import polyfn_azure
import pytest
from azure.core.exceptions import ResourceExistsError

from conformance.resource_harnesses import FakeCredential, FakeKeyVault
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
from polyfn._resources import OutgoingMessage, backend_for, reset_backends
from tests.azure._host import Host

pytestmark = pytest.mark.e2e

ODD_KEYS = [
    "plain.txt",
    "with space.txt",
    "plus+sign.csv",
    "per%25cent %41.bin",
    "dir/sub dir/ünïcødé ✓.json",
]


@pytest.fixture
def azure_env(azurite: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AzureWebJobsStorage", azurite)
    monkeypatch.setenv("POLYFN_PROVIDER", "azure")
    reset_backends()
    yield azurite
    reset_backends()


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bucket(azure_env: str) -> Bucket:
    from azure.storage.blob import BlobServiceClient

    name = _name("polyfn-")
    BlobServiceClient.from_connection_string(azure_env).create_container(name)
    return Bucket(name)


# -- Blob Storage --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ODD_KEYS)
def test_blob_round_trips_binary_under_odd_keys(bucket: Bucket, key: str) -> None:
    data = bytes(range(256)) + "ünïcødé".encode()
    bucket.write(key, data, content_type="application/x-test", metadata={"who": "polyfn"})
    assert bucket.read(key) == data
    info = bucket.info(key)
    assert info is not None
    assert (info.key, info.size, info.content_type) == (key, len(data), "application/x-test")
    assert info.metadata == {"who": "polyfn"}
    assert info.etag and info.updated is not None
    assert [o.key for o in bucket.list(key)] == [key]


def test_blob_missing_delete_and_bad_metadata(bucket: Bucket) -> None:
    bucket.write("t.txt", "héllo")
    assert bucket.read("t.txt") == "héllo".encode()
    assert bucket.info("absent") is None
    with pytest.raises(NotFound) as caught:
        bucket.read("absent")
    assert caught.value.__cause__ is not None
    bucket.delete("t.txt")
    bucket.delete("t.txt")
    assert bucket.info("t.txt") is None
    with pytest.raises(ResourceError, match="C# identifiers"):
        bucket.write("k", b"x", metadata={"not-an-identifier": "v"})
    with pytest.raises(NotFound, match="POLYFN_BUCKET_"):
        Bucket(_name("absent-")).read("k")


def test_blob_lists_past_one_thousand(bucket: Bucket) -> None:
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"many/{i:05d}" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: bucket.write(k, b"x"), keys))
    assert [o.key for o in bucket.list("many/")] == keys


def test_signed_urls_work_against_azurite(bucket: Bucket) -> None:
    """The SAS is checked by Azurite itself: the PUT URL uploads, the GET URL downloads."""
    key = "dir/a b+c ✓.txt"
    put_url = bucket.signed_url(key, "PUT", timedelta(minutes=5))
    request = urllib.request.Request(
        put_url, data=b"signed", method="PUT", headers={"x-ms-blob-type": "BlockBlob"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
    get_url = bucket.signed_url(key, "GET", 300)
    with urllib.request.urlopen(get_url, timeout=10) as answer:
        assert answer.read() == b"signed"
    tampered = get_url.replace("sp=r", "sp=rw")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered, timeout=10)
    assert refused.value.code == 403
    refused.value.close()


def test_blob_key_is_the_blob_trigger_key(bucket: Bucket) -> None:
    """The blob trigger's Datum, built from the blob's real properties: the key polyfn_azure
    reads is the key written."""
    key = "dir/plus+ %41 ✓.csv"
    bucket.write(key, b"a,b\n")
    seen: list[str] = []
    app = App("blobs")

    @app.storage(bucket)
    def on_blob(event: Any, ctx: Context) -> None:
        seen.append(event.key)

    host = Host(polyfn_azure.function_app(app))
    from azure.storage.blob import BlobServiceClient

    blob = (
        BlobServiceClient.from_connection_string(__import__("os").environ["AzureWebJobsStorage"])
        .get_container_client(bucket.name)
        .get_blob_client(key)
    )
    props = blob.get_blob_properties()
    fixture = {
        "data": {"type": "bytes", "value": "a,b\n"},
        "metadata": {
            "BlobTrigger": {"type": "string", "value": f"{bucket.name}/{key}"},
            "Uri": {"type": "string", "value": blob.url},
            "Properties": {
                "type": "json",
                "value": {
                    "ContentType": props.content_settings.content_type,
                    "ETag": props.etag,
                    "LastModified": props.last_modified.isoformat(),
                    "ContentLength": props.size,
                },
            },
        },
    }
    host.call("on_blob", fixture)
    assert seen == [key]


# -- Storage queues ------------------------------------------------------------------------------


def _receive(connection: str, name: str) -> Any:
    reader = queue_storage.QueueClient.from_connection_string(connection, name)
    [message] = list(reader.receive_messages(max_messages=1))
    reader.delete_message(message)
    return message


def queue_fixture(message: Any) -> dict[str, Any]:
    """The invocation the host makes of a queue function for a Storage queue `message`: the host
    decodes the base64 (messageEncoding "base64", the default) before the worker."""
    return {
        "data": {"type": "bytes", "base64": message.content},
        "metadata": {
            "Id": {"type": "string", "value": message.id},
            "DequeueCount": {"type": "int", "value": message.dequeue_count},
            "InsertionTime": {"type": "string", "value": message.inserted_on.isoformat()},
        },
    }


def _deliver(name: str, message: Any) -> QueueMessage:
    seen: list[QueueMessage] = []
    app = App("consumer")

    @app.queue(name)
    def consume(msg: QueueMessage, ctx: Context) -> None:
        seen.append(msg)

    host = Host(polyfn_azure.function_app(app))
    host.call("consume", queue_fixture(message))
    [msg] = seen
    return msg


@pytest.mark.parametrize(
    ("body", "attributes", "expected"),
    [
        (b"\x00\xff binary \x80", None, b"\x00\xff binary \x80"),
        ("ünïcødé ✓", None, "ünïcødé ✓".encode()),
        ({"order": 7}, {"kind": "order", "ü": "✓"}, b'{"order":7}'),
        (b"\x00raw", {"k": "v"}, b"\x00raw"),
    ],
)
def test_storage_queue_send_reaches_the_consumer(
    azure_env: str, body: Any, attributes: dict[str, str] | None, expected: bytes
) -> None:
    import base64

    name = _name("q")
    queue_storage.QueueClient.from_connection_string(azure_env, name).create_queue()
    sent_id = Queue(name).send(body, attributes=attributes)
    message = _receive(azure_env, name)
    assert message.id == sent_id
    wire = base64.b64decode(message.content)
    if not attributes:
        assert wire == expected  # without attributes: exactly the bytes, as base64
    msg = _deliver(name, message)
    assert msg.body == expected
    assert msg.attributes == (attributes or {})


def test_storage_queue_refusals(azure_env: str) -> None:
    name = _name("q")
    queue_storage.QueueClient.from_connection_string(azure_env, name).create_queue()
    queue = Queue(name)
    with pytest.raises(ResourceError, match="65536"):
        queue.send(b"x" * 50_000)
    with pytest.raises(ResourceError, match="fifo"):
        queue.send(b"x", group="g")
    with pytest.raises(NotFound, match="POLYFN_QUEUE_"):
        Queue(_name("absent")).send(b"x")
    result = queue.send_batch([b"ok", b"x" * 50_000, "also ok"])
    assert [index for index, _ in result.failed] == [1]
    assert result.ids[0] and result.ids[2] and result.ids[1] is None


def test_storage_queue_delay_hides_the_message(azure_env: str) -> None:
    name = _name("q")
    client = queue_storage.QueueClient.from_connection_string(azure_env, name)
    client.create_queue()
    Queue(name).send(b"later", delay=60)
    assert list(client.receive_messages(max_messages=1)) == []
    assert client.get_queue_properties().approximate_message_count == 1


# -- Table Storage -------------------------------------------------------------------------------


def test_table_round_trip_and_conditional_writes(azure_env: str) -> None:
    from azure.data.tables import TableServiceClient

    name = _name("carts")
    TableServiceClient.from_connection_string(azure_env).create_table(name)
    table = Table(name)
    key = "user/1 + ü # ? %2F"
    document = {"items": [[1, "a"], {"n": None}], "total": 12.5, "big": 2**70, "long": "x" * 70_000}
    assert table.get(key) is None
    v1 = table.put(key, document, if_absent=True)
    got = table.get(key)
    assert got == document and got is not None and got.version == v1
    with pytest.raises(Conflict):
        table.put(key, {"other": 1}, if_absent=True)
    v2 = table.put(key, {"total": 13}, if_version=v1)
    assert v2 != v1
    with pytest.raises(Conflict):
        table.put(key, {"total": 14}, if_version=v1)
    with pytest.raises(Conflict):
        table.delete(key, if_version=v1)
    table.delete(key, if_version=v2)
    assert table.get(key) is None
    table.delete(key)
    with pytest.raises(Conflict):
        table.put(key, {"x": 1}, if_version=v2)  # gone: the version cannot match
    with pytest.raises(NotFound, match="POLYFN_TABLE_"):
        Table(_name("absent")).get("k")


def test_table_if_version_serialises_concurrent_writers(azure_env: str) -> None:
    from azure.data.tables import TableServiceClient

    name = _name("counters")
    TableServiceClient.from_connection_string(azure_env).create_table(name)
    table = Table(name)
    table.put("c", {"n": 0})

    def increment() -> None:
        for _ in range(100):
            current = table.get("c")
            assert current is not None
            try:
                table.put("c", {"n": current["n"] + 1}, if_version=current.version)
                return
            except Conflict:
                continue
        raise AssertionError("never won the race")

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert table.get("c") == {"n": 8}


# -- Service Bus (no broker: AMQP) ---------------------------------------------------------------


class RecordingSender:
    """Stands in for azure-servicebus's ServiceBusSender: records what send_messages gets."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[Any] = []
        self.fail = fail

    def send_messages(self, payload: Any) -> None:
        from azure.servicebus.exceptions import ServiceBusError

        if self.fail:
            raise ServiceBusError("the namespace refused the batch")
        self.sent.extend(payload if isinstance(payload, list) else [payload])


def _entity_with(backend: Any, kind: str, name: str, sender: RecordingSender) -> None:
    entity = backend.topic(name) if kind == "topic" else backend.queue(name, True)
    entity._sender = sender


def test_service_bus_messages_are_built_as_the_trigger_reads_them(
    azure_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fifo queue and a topic: azure-servicebus's own ServiceBusMessage carries the bytes, the
    attributes as application properties, the group as the session id; the Service Bus trigger's
    converter reads them back into the same QueueMessage (no broker: recorded, not sent)."""
    backend = backend_for("azure")
    sender = RecordingSender()
    _entity_with(backend, "queue", "orders", sender)
    _entity_with(backend, "topic", "events", sender)
    queue = Queue("orders", fifo=True)
    queue.send(b"\x00\xff", attributes={"k": "v"}, group="cart-1", delay=30)
    Topic("events").publish({"e": 1}, attributes={"v": "2"})
    first, second = sender.sent
    assert b"".join(first.body) == b"\x00\xff"
    assert first.application_properties == {"k": "v"}
    assert first.session_id == "cart-1"
    assert first.scheduled_enqueue_time_utc is not None
    assert b"".join(second.body) == b'{"e":1}'
    assert second.application_properties == {"v": "2"}
    with pytest.raises(ResourceError, match="group="):
        queue.send(b"x")
    seen: list[QueueMessage] = []
    app = App("sb")

    @app.queue(queue)
    def consume(msg: QueueMessage, ctx: Context) -> None:
        seen.append(msg)

    host = Host(polyfn_azure.function_app(app))
    host.call(
        "consume",
        {
            "data": {"type": "bytes", "value": b"".join(first.body).decode("latin-1")},
            "metadata": {
                "MessageId": {"type": "string", "value": first.message_id or "m-1"},
                "DeliveryCount": {"type": "int", "value": 1},
                "SessionId": {"type": "string", "value": first.session_id},
                "ApplicationProperties": {
                    "type": "json",
                    "value": dict(first.application_properties),
                },
                "UserProperties": {"type": "json", "value": dict(first.application_properties)},
            },
        },
    )
    [msg] = seen
    assert msg.attributes == {"k": "v"} and msg.group == "cart-1"


def test_service_bus_batch_failure_reports_every_entry(azure_env: str) -> None:
    backend = backend_for("azure")
    _entity_with(backend, "queue", "batchq", RecordingSender(fail=True))
    result = Queue("batchq", fifo=True).send_batch(
        [{"body": b"a", "group": "g"}, {"body": b"b", "group": "g"}, b"no group"]
    )
    assert [index for index, _ in result.failed] == [0, 1, 2]
    assert "group=" in str(result.failed[2][1])
    assert "refused" in str(result.failed[0][1])


# -- Key Vault (fake transport) ------------------------------------------------------------------


def test_secret_value_over_a_fake_key_vault(
    azure_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.keyvault.secrets import SecretClient

    vault = FakeKeyVault({"stripe-key": "sk_ü"})
    monkeypatch.setenv("POLYFN_KEYVAULT_URL", "https://vault.vault.azure.net")
    real_init = SecretClient.__init__

    def init(self: Any, url: str, credential: Any, **kwargs: Any) -> None:
        real_init(self, url, FakeCredential(), transport=vault, verify_challenge_resource=False)

    monkeypatch.setattr(SecretClient, "__init__", init)
    secret = Secret("stripe-key", ttl=60)
    assert secret.value() == "sk_ü"
    assert secret.value() == "sk_ü"
    assert vault.paths.count("/secrets/stripe-key/") == 1
    with pytest.raises(NotFound, match="POLYFN_SECRET_"):
        Secret("absent").value()
    monkeypatch.delenv("POLYFN_KEYVAULT_URL")
    with pytest.raises(ResourceError, match="POLYFN_KEYVAULT_URL"):
        Secret("other").value()


# -- the uses= check in a real invocation --------------------------------------------------------


def test_uses_is_enforced_inside_an_azure_invocation(bucket: Bucket) -> None:
    name = _name("q")
    with contextlib.suppress(ResourceExistsError):
        queue_storage.QueueClient.from_connection_string(
            __import__("os").environ["AzureWebJobsStorage"], name
        ).create_queue()
    app = App("acts")
    seen: list[str] = []

    @app.queue(name, uses=[bucket.write])
    def allowed(msg: QueueMessage, ctx: Context) -> None:
        bucket.write("k", msg.body)
        seen.append(ctx.provider)

    @app.queue(name + "x", uses=[bucket.read])
    def sneaky(msg: QueueMessage, ctx: Context) -> None:
        bucket.write("k", b"nope")

    host = Host(polyfn_azure.function_app(app))
    fixture = {
        "data": {"type": "bytes", "value": "hello"},
        "metadata": {"Id": {"type": "string", "value": "m1"}},
    }
    host.call("allowed", fixture)
    assert seen == ["azure"] and bucket.read("k") == b"hello"
    with pytest.raises(Exception, match=r"called write on bucket .* without declaring it"):
        host.call("sneaky", fixture)
    assert bucket.read("k") == b"hello"


def test_outgoing_message_size_counts_the_base64(azure_env: str) -> None:
    from polyfn_azure._resources import STORAGE_QUEUE_MAX

    raw_max = STORAGE_QUEUE_MAX // 4 * 3
    backend = backend_for("azure")
    name = _name("q")
    queue_storage.QueueClient.from_connection_string(azure_env, name).create_queue()
    backend.queue(name, False).send(OutgoingMessage(b"x" * raw_max))
    with pytest.raises(ResourceError):
        backend.queue(name, False).send(OutgoingMessage(b"x" * (raw_max + 1)))
