"""The AWS resource backend against moto_server on 127.0.0.1: every handle is called inside a real
invocation through `polyfn_aws.handler(app)` (so the uses= check runs), and what it sends reaches
the consumer through the adapter's own SQS and SNS readers, with the events checked by
Powertools' parser models."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polyfn_aws
import pytest

from polyfn import (
    AccessDenied,
    App,
    Bucket,
    Conflict,
    NotFound,
    Queue,
    QueueMessage,
    ResourceError,
    Secret,
    StorageEvent,
    Table,
    Topic,
)
from polyfn._resources import backend_for, reset_backends
from polyfn._trace import parse_traceparent

from ._aws_resources import REGION, consume, new_queue, new_table, sns_event, sqs_records
from .conftest import lambda_context, load, validate

pytestmark = pytest.mark.e2e

ODD_KEYS = [
    "plain.txt",
    "a b+c (1).txt",
    "100% sure+%41.txt",
    "dir/sub dir/ünïcødé 中文 🎉.bin",
    "trailing/",
    "+leading plus",
]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Any]]:
    """boto3 clients on moto for setting up and checking; the backend reads AWS_ENDPOINT_URL."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_REGION", REGION)
    reset_backends()
    yield lambda service: boto3.client(service, endpoint_url=moto_url, region_name=REGION)
    reset_backends()


def http_event(path: str = "/run") -> dict[str, Any]:
    ev = load("apigw_http_v2")
    ev.update(rawPath=path, rawQueryString="", cookies=[])
    ev["requestContext"]["http"].update(method="POST", path=path)
    ev.pop("queryStringParameters", None)
    return validate("APIGatewayProxyEventV2Model", ev)


def in_lambda(uses: list[Any], action: Callable[[], Any]) -> Any:
    """Run `action` inside an HTTP invocation of a function declaring `uses`, through the Lambda
    handler; its result is returned and its exception re-raised here."""
    app = App("resources")
    outcome: dict[str, Any] = {}

    @app.http("/run", methods=["POST"], uses=uses)
    def run(req: Any, ctx: Any) -> dict[str, bool]:
        try:
            outcome["value"] = action()
        except Exception as exc:
            outcome["error"] = exc
        return {"ok": True}

    answer = polyfn_aws.handler(app)(http_event(), lambda_context())
    assert answer["statusCode"] == 200, answer
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# -- buckets -------------------------------------------------------------------------------------


def test_bucket_round_trips_bytes_text_metadata_and_odd_keys(aws):
    s3 = aws("s3")
    name = unique("uploads")
    s3.create_bucket(Bucket=name)
    bucket = Bucket("uploads")
    binary = bytes(range(256)) * 3
    text = "naïve café ✓ 中文\n"

    def act() -> dict[str, Any]:
        for key in ODD_KEYS:
            bucket.write(key, binary, content_type="application/x-test", metadata={"Origin": "t"})
        bucket.write("text.txt", text)
        return {
            "read": {key: bucket.read(key) for key in ODD_KEYS},
            "text": bucket.read("text.txt"),
            "info": bucket.info(ODD_KEYS[3]),
            "text_info": bucket.info("text.txt"),
            "absent": bucket.info("no such key"),
        }

    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLYFN_BUCKET_UPLOADS", name)
        seen = in_lambda([bucket.write, bucket.read, bucket.info], act)
    assert seen["read"] == dict.fromkeys(ODD_KEYS, binary)
    assert seen["text"] == text.encode()
    info = seen["info"]
    assert (info.key, info.size) == (ODD_KEYS[3], len(binary))
    assert info.content_type == "application/x-test"
    assert info.etag == hashlib.md5(binary).hexdigest()
    # S3 gives user metadata names back in lowercase; polyfn writes them so on AWS.
    assert info.metadata == {"origin": "t"}
    assert info.updated is not None and info.updated.tzinfo is not None
    assert seen["text_info"].content_type == "text/plain; charset=utf-8"
    assert seen["absent"] is None
    # The keys S3 holds are the keys written, byte for byte.
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert listed == {*ODD_KEYS, "text.txt"}


def test_bucket_read_missing_delete_and_signed_urls(aws):
    import urllib.request

    s3 = aws("s3")
    name = unique("files")
    s3.create_bucket(Bucket=name)
    bucket = Bucket(name)
    ops = [bucket.read, bucket.write, bucket.delete, bucket.signed_url, bucket.info]
    with pytest.raises(NotFound) as caught:
        in_lambda(ops, lambda: bucket.read("missing/a b"))
    assert "has no object 'missing/a b'" in str(caught.value)
    assert type(caught.value.__cause__).__name__ == "NoSuchKey"

    put_url = in_lambda(ops, lambda: bucket.signed_url("up/x y+z.bin", "PUT", 60))
    # A Content-Type, or urllib sends a form type whose binary body moto_server tries to parse.
    headers = {"Content-Type": "application/octet-stream"}
    request = urllib.request.Request(put_url, b"\x00\xffsigned", headers, method="PUT")
    urllib.request.urlopen(request, timeout=10).close()
    get_url = in_lambda(ops, lambda: bucket.signed_url("up/x y+z.bin"))
    with urllib.request.urlopen(get_url, timeout=10) as answer:
        assert answer.read() == b"\x00\xffsigned"
    with pytest.raises(ResourceError, match="at most 7 days"):
        in_lambda(ops, lambda: bucket.signed_url("k", "GET", 8 * 86400))

    in_lambda(ops, lambda: bucket.delete("up/x y+z.bin"))
    in_lambda(ops, lambda: bucket.delete("never existed"))  # S3 cannot tell: not an error
    assert in_lambda(ops, lambda: bucket.info("up/x y+z.bin")) is None


def test_bucket_list_pages_through_more_than_1000_objects(aws):
    s3 = aws("s3")
    name = unique("many")
    s3.create_bucket(Bucket=name)
    keys = [f"p/{i:05d} é+" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=name, Key=k, Body=b"x"), keys))
    s3.put_object(Bucket=name, Key="q/other", Body=b"y")
    bucket = Bucket(name)
    calls: list[str] = []

    def act() -> list[Any]:
        client = backend_for("aws").client("s3")  # type: ignore[attr-defined]
        client.meta.events.register(
            "before-call.s3.ListObjectsV2", lambda **kw: calls.append("page")
        )
        return list(bucket.list("p/"))

    found = in_lambda([bucket.list], act)
    assert [o.key for o in found] == keys
    assert {o.size for o in found} == {1}
    assert len(calls) == 2  # S3 answers at most 1,000 keys a page


def test_key_written_through_the_handle_is_the_key_of_its_notification(aws):
    s3, sqs = aws("s3"), aws("sqs")
    name = unique("incoming")
    s3.create_bucket(Bucket=name)
    url, arn = new_queue(sqs, unique("s3-events"))
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    sqs_records(sqs, url, arn, 1)  # moto's s3:TestEvent
    bucket = Bucket(name)
    in_lambda([bucket.write], lambda: [bucket.write(key, key.encode()) for key in ODD_KEYS])

    app = App("keys")
    seen: list[StorageEvent] = []

    @app.storage(bucket, uses=[bucket.read])
    def on_upload(event: StorageEvent, ctx: Any) -> None:
        seen.append(event)
        assert bucket.read(event.key) == event.key.encode()

    records = sqs_records(sqs, url, arn, len(ODD_KEYS))
    ev = validate("SqsModel", {"Records": records})
    assert polyfn_aws.handler(app)(ev, lambda_context()) == {"batchItemFailures": []}
    assert sorted(e.key for e in seen) == sorted(ODD_KEYS)


# -- queues --------------------------------------------------------------------------------------


BODIES: list[tuple[Any, bytes]] = [
    (b"plain text", b"plain text"),
    ("ünïcødé ✓ 🎉", "ünïcødé ✓ 🎉".encode()),
    ({"order": 42, "items": ["a"]}, b'{"order":42,"items":["a"]}'),
    (bytes(range(256)), bytes(range(256))),  # not UTF-8: goes base64
    (b"ctrl \x00\x01 \x1b[0m", b"ctrl \x00\x01 \x1b[0m"),  # UTF-8, but not XML text
]


def test_send_reaches_the_consumer_with_identical_body_and_attributes(aws):
    sqs = aws("sqs")
    name = unique("orders")
    url, arn = new_queue(sqs, name)
    queue = Queue(name)

    def act() -> list[str]:
        return [
            queue.send(body, attributes={"n": str(i), "kind": "té st"})
            for i, (body, _) in enumerate(BODIES)
        ]

    ids = in_lambda([queue.send], act)
    got = consume(sqs, url, arn, queue, len(BODIES))
    by_n = {m.attributes["n"]: m for m in got}
    assert sorted(m.id for m in got) == sorted(ids)
    for i, (_, expected) in enumerate(BODIES):
        message = by_n[str(i)]
        assert message.body == expected
        # The base64 marker is dropped; the sending invocation's trace context travels along.
        assert message.attributes == {
            "n": str(i),
            "kind": "té st",
            "traceparent": message.attributes["traceparent"],
        }
        assert parse_traceparent(message.attributes["traceparent"]) is not None
        assert message.queue == name


def test_a_message_without_attributes_is_its_bytes_and_trace_context_on_the_wire(aws):
    sqs = aws("sqs")
    name = unique("plain")
    url, _ = new_queue(sqs, name)
    queue = Queue(name)
    in_lambda([queue.send], lambda: queue.send({"a": "é"}))
    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == '{"a":"é"}'
    # Sent from inside an invocation, the only attribute is its trace context (issue 10).
    assert set(message["MessageAttributes"]) == {"traceparent"}


def test_fifo_queue_keeps_the_group_and_sends_equal_bodies_twice(aws):
    sqs = aws("sqs")
    name = unique("jobs")
    url, arn = new_queue(sqs, name + ".fifo", FifoQueue="true")
    queue = Queue(name, fifo=True)  # the backend adds .fifo, as the builder does
    in_lambda(
        [queue.send, queue.send_batch],
        lambda: (
            queue.send(b"same", group="g1"),
            queue.send(b"same", group="g1"),
            queue.send_batch([{"body": b"\xff\xfe", "group": "g2"}]),
        ),
    )
    got = consume(sqs, url, arn, queue, 3)
    assert [(m.body, m.group) for m in got] == [
        (b"same", "g1"),
        (b"same", "g1"),
        (b"\xff\xfe", "g2"),
    ]
    with pytest.raises(ResourceError, match="FIFO queues take no per-message delay"):
        in_lambda([queue.send], lambda: queue.send(b"x", group="g", delay=5))


def test_send_batch_sends_in_chunks_and_reports_exactly_the_refused_entries(aws):
    sqs = aws("sqs")
    name = unique("bulk")
    url, arn = new_queue(sqs, name, MaximumMessageSize="2048")
    queue = Queue(name)
    entries: list[Any] = [f"m{i}" for i in range(23)]
    entries[5] = b"x" * 3000  # over this queue's MaximumMessageSize
    entries[17] = {"body": "late", "delay": 901}  # over SQS's 900 s
    result = in_lambda([queue.send_batch], lambda: queue.send_batch(entries))
    assert [i for i, _ in result.failed] == [5, 17]
    assert "2048" in str(result.failed[0][1]) and name in str(result.failed[0][1])
    assert "900" in str(result.failed[1][1])
    assert sum(1 for i in result.ids if i) == 21
    got = consume(sqs, url, arn, queue, 21)
    assert sorted(m.text for m in got) == sorted(e for e in entries if isinstance(e, str))


def test_oversize_send_is_refused_before_sending_naming_queue_and_limit(aws):
    sqs = aws("sqs")
    name = unique("small")
    url, _ = new_queue(sqs, name)
    queue = Queue(name)
    limit = int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MaximumMessageSize"])["Attributes"][
            "MaximumMessageSize"
        ]
    )
    with pytest.raises(ResourceError) as caught:
        in_lambda([queue.send], lambda: queue.send(b"\x00" * limit))  # base64 makes it bigger
    assert name in str(caught.value) and str(limit) in str(caught.value)
    assert "base64" in str(caught.value)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_a_missing_queue_says_which_variable_is_not_set(aws):
    queue = Queue(unique("nowhere"))
    with pytest.raises(NotFound) as caught:
        in_lambda([queue.send], lambda: queue.send("x"))
    message = str(caught.value)
    assert queue.env_var in message and "is not set" in message
    assert caught.value.__cause__ is not None


def test_an_undeclared_operation_is_refused_inside_the_lambda(aws):
    queue = Queue("orders")
    with pytest.raises(AccessDenied, match=r"add orders\.send_batch to uses="):
        in_lambda([queue.send], lambda: queue.send_batch(["x"]))


def test_invalid_physical_names_are_refused_naming_the_rule(aws):
    bucket = Bucket("Uploads_2024")
    with pytest.raises(ResourceError, match="lowercase letters") as caught:
        in_lambda([bucket.read], lambda: bucket.read("k"))
    assert "POLYFN_BUCKET_UPLOADS_2024" in str(caught.value)
    queue = Queue("orders")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLYFN_QUEUE_ORDERS", "orders.v2")
        with pytest.raises(ResourceError, match="SQS queue names hold only"):
            in_lambda([queue.send], lambda: queue.send("x"))


# -- topics --------------------------------------------------------------------------------------


def test_publish_reaches_the_sns_subscriber_with_identical_body_and_attributes(aws):
    sns, sqs = aws("sns"), aws("sqs")
    name = unique("order-events")
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    url, arn = new_queue(sqs, unique("tap"))
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    topic = Topic(name)

    def act() -> list[str]:
        return [topic.publish(body, attributes={"n": str(i)}) for i, (body, _) in enumerate(BODIES)]

    ids = in_lambda([topic.publish], act)
    app = App("subscribers")
    got: list[QueueMessage] = []

    @app.queue(name)
    def audit(msg: QueueMessage, ctx: Any) -> None:
        got.append(msg)

    handler = polyfn_aws.handler(app)
    for record in sqs_records(sqs, url, arn, len(BODIES)):
        ev = sns_event(json.loads(record["body"]), topic_arn)
        handler(ev, lambda_context())
    assert sorted(m.id for m in got) == sorted(ids)
    for message in got:
        n = int(message.attributes["n"])
        assert message.body == BODIES[n][1]
        assert message.attributes == {"n": str(n), "traceparent": message.attributes["traceparent"]}


def test_fifo_topic_publishes_with_a_group(aws):
    sns = aws("sns")
    name = unique("ledger") + ".fifo"
    sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})
    topic = Topic(name)
    assert in_lambda([topic.publish], lambda: topic.publish(b"\x00entry"))


# -- tables --------------------------------------------------------------------------------------


DOCUMENT = {
    "int": 42,
    "big": 10**30,
    "neg": -7,
    "float": 0.1,
    "integral float": 1.0,
    "tiny": 1.5e-100,
    "huge float": 2e100,
    "text": "ünïcødé 中文 🎉",
    "empty": "",
    "flag": True,
    "off": False,
    "nothing": None,
    "list": [1, 2.0, "x", None, [3.25], {"deep": 4.0}],
    "map": {"a b": {"c": [1.0, 2]}, "é": "unicode key"},
    "empty list": [],
    "empty map": {},
}


def test_table_round_trips_json_exactly_with_versions(aws):
    ddb = aws("dynamodb")
    name = unique("carts")
    new_table(ddb, name)
    carts = Table("carts")

    def act() -> dict[str, Any]:
        first = carts.put("cart 1/é", DOCUMENT)
        got = carts.get("cart 1/é")
        second = carts.put("cart 1/é", {"n": 1})
        return {"first": first, "got": got, "second": second, "again": carts.get("cart 1/é")}

    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLYFN_TABLE_CARTS", name)
        seen = in_lambda([carts.put, carts.get], act)
    got = seen["got"]
    assert got == DOCUMENT
    assert json.dumps(got, sort_keys=True) == json.dumps(DOCUMENT, sort_keys=True)
    assert type(got["integral float"]) is float and type(got["big"]) is int
    assert type(got["list"][1]) is float and type(got["map"]["a b"]["c"][1]) is int
    assert got.version == seen["first"] == "1"
    assert seen["second"] == "2" and seen["again"] == {"n": 1}
    # The fields are the item's own attributes beside pk and _version.
    item = ddb.get_item(TableName=name, Key={"pk": {"S": "cart 1/é"}})["Item"]
    assert item == {"pk": {"S": "cart 1/é"}, "n": {"N": "1"}, "_version": {"N": "2"}}


def test_table_conditional_writes_conflict(aws):
    ddb = aws("dynamodb")
    name = unique("stock")
    new_table(ddb, name)
    stock = Table("stock")
    ops = [stock.get, stock.put, stock.delete]

    def act() -> dict[str, Any]:
        v1 = stock.put("sku", {"left": 3}, if_absent=True)
        out: dict[str, Any] = {"v1": v1}
        for label, call in {
            "absent again": lambda: stock.put("sku", {"left": 9}, if_absent=True),
            "stale put": lambda: stock.put("sku", {"left": 9}, if_version="7"),
            "foreign version": lambda: stock.put("sku", {"left": 9}, if_version="abc"),
        }.items():
            try:
                call()
            except Conflict as exc:
                out[label] = exc
        out["v2"] = stock.put("sku", {"left": 2}, if_version=v1)
        try:
            stock.delete("sku", if_version=v1)
        except Conflict as exc:
            out["stale delete"] = exc
        out["kept"] = stock.get("sku")
        stock.delete("sku", if_version=out["v2"])
        out["gone"] = stock.get("sku")
        stock.delete("sku")  # missing: not an error
        try:
            stock.put("new", {}, if_version="1")
        except Conflict as exc:
            out["missing with version"] = exc
        return out

    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLYFN_TABLE_STOCK", name)
        out = in_lambda(ops, act)
    assert (out["v1"], out["v2"]) == ("1", "2")
    for label in ("absent again", "stale put", "stale delete", "missing with version"):
        assert type(out[label].__cause__).__name__ == "ConditionalCheckFailedException", label
    assert "a document exists" in str(out["absent again"])
    assert "foreign version" in out
    assert out["kept"] == {"left": 2} and out["kept"].version == "2"
    assert out["gone"] is None


def test_table_refuses_reserved_fields_and_numbers_dynamodb_cannot_hold(aws):
    ddb = aws("dynamodb")
    name = unique("docs")
    new_table(ddb, name)
    docs = Table("docs")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLYFN_TABLE_DOCS", name)
        with pytest.raises(ResourceError, match="'_version' is reserved"):
            in_lambda([docs.put], lambda: docs.put("k", {"_version": 1}))
        with pytest.raises(ResourceError, match="does not fit DynamoDB's numbers"):
            in_lambda([docs.put], lambda: docs.put("k", {"x": 1e300}))
        with pytest.raises(ResourceError, match="does not fit DynamoDB's numbers"):
            in_lambda([docs.put], lambda: docs.put("k", {"x": 10**40 + 1}))


def test_a_missing_table_is_not_found_with_the_mapping_advice(aws):
    missing = Table("ghost" + uuid.uuid4().hex[:6])
    with pytest.raises(NotFound, match="is not set") as caught:
        in_lambda([missing.get], lambda: missing.get("k"))
    assert missing.env_var in str(caught.value)
    assert type(caught.value.__cause__).__name__ == "ResourceNotFoundException"


# -- secrets -------------------------------------------------------------------------------------


def test_secret_values_text_binary_and_missing(aws):
    sm = aws("secretsmanager")
    text_name, binary_name, bad_name = unique("stripe"), unique("cert"), unique("blob")
    sm.create_secret(Name=text_name, SecretString="sk_test_ü")
    sm.create_secret(Name=binary_name, SecretBinary="pem ✓".encode())
    sm.create_secret(Name=bad_name, SecretBinary=b"\xff\xfe")
    stripe = Secret("stripe")
    cert, blob, absent = Secret(binary_name), Secret(bad_name), Secret(unique("absent"))
    ops = [stripe.value, cert.value, blob.value, absent.value]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLYFN_SECRET_STRIPE", text_name)
        assert in_lambda(ops, stripe.value) == "sk_test_ü"
    assert in_lambda(ops, cert.value) == "pem ✓"
    with pytest.raises(ResourceError, match="not UTF-8"):
        in_lambda(ops, blob.value)
    with pytest.raises(NotFound) as caught:
        in_lambda(ops, absent.value)
    assert type(caught.value.__cause__).__name__ == "ResourceNotFoundException"


def test_one_client_per_service_is_reused_across_invocations(aws):
    s3 = aws("s3")
    name = unique("reuse")
    s3.create_bucket(Bucket=name)
    bucket = Bucket(name)

    def act() -> Any:
        bucket.write("k", b"v")
        return backend_for("aws").client("s3")  # type: ignore[attr-defined]

    clients = [in_lambda([bucket.write], act) for _ in range(3)]
    assert clients[0] is clients[1] is clients[2]


def test_standard_queue_carries_group_and_delay(aws):
    sqs = aws("sqs")
    name = unique("fair")
    url, arn = new_queue(sqs, name)
    queue = Queue(name)
    in_lambda([queue.send], lambda: queue.send("tenant message", group="tenant-1"))
    (message,) = consume(sqs, url, arn, queue, 1)
    assert (message.body, message.group) == (b"tenant message", "tenant-1")
    with pytest.raises(ResourceError, match="at most 900 s"):
        in_lambda([queue.send], lambda: queue.send("later", delay=901))
    with pytest.raises(ResourceError, match="at least one byte"):
        in_lambda([queue.send], lambda: queue.send(b""))


def test_oversize_publish_is_refused_naming_topic_and_limit(aws):
    sns = aws("sns")
    name = unique("big-events")
    sns.create_topic(Name=name)
    topic = Topic(name)
    with pytest.raises(ResourceError) as caught:
        in_lambda([topic.publish], lambda: topic.publish("x" * 262_144, attributes={"a": "b"}))
    assert name in str(caught.value) and "262144" in str(caught.value)
    assert in_lambda([topic.publish], lambda: topic.publish("x" * 262_000))


def test_a_missing_mapped_queue_names_handle_aws_name_and_variable(aws):
    queue = Queue("orders")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLYFN_QUEUE_ORDERS", "prod-orders-missing")
        with pytest.raises(NotFound) as caught:
            in_lambda([queue.send], lambda: queue.send("x"))
    message = str(caught.value)
    assert "queue 'orders' (AWS name 'prod-orders-missing', from POLYFN_QUEUE_ORDERS)" in message
    assert "check that POLYFN_QUEUE_ORDERS names an existing queue" in message
