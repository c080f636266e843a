"""Neutral resource cases: the same checks of `Bucket`, `Queue`, `Topic`, `Table` and `Secret` on
every backend (local twins, AWS on moto_server, Azure on Azurite, GCP on its emulators), and
`idempotent` on each backend's Table.

Calling convention
------------------
Each ``case_*(make_handles)`` takes `make_handles`, a no-argument callable returning a fresh
`ResourceHarness` for the backend under test, calls it once, runs its checks and raises
``AssertionError`` on a mismatch (`Skip` where the harness cannot provide something, with the
reason). ``CASES`` lists them all, in order. A backend's test module runs them like this::

    import pytest
    from conformance._spec import Skip
    from conformance.resources import CASES

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
    def test_resource_case(case, make_handles):     # make_handles: a fixture returning a factory
        try:
            case(make_handles)
        except Skip as why:
            pytest.skip(str(why))

The harness (see `ResourceHarness`) hands out new, empty resources that exist on the backend, with
handles that already talk to it: it arranges the provider (``POLYFN_PROVIDER``, or an invocation
context) and the endpoints (``AWS_ENDPOINT_URL``, ``AzureWebJobsStorage``, emulator hosts), and
gives unique names so cases never see each other's data. It also does what polyfn's API does not:
creating a secret, and reading a queue as its consumer function would (`receive` returns the
`QueueMessage` values the adapter hands to a handler). Handles are used outside any invocation,
so no ``uses=`` check applies; some cases use threads, so the harness must not rely on a
``ContextVar`` to pick the backend.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from conformance._spec import Skip
from polyfn import Conflict, NotFound, ResourceError

if TYPE_CHECKING:
    from collections.abc import Callable

    from polyfn import Bucket, Queue, QueueMessage, Secret, Table, Topic

__all__ = ["CASES", "ResourceHarness", "Skip"]


class ResourceHarness(Protocol):
    """What a backend's test module provides to the cases (one per `make_handles()` call)."""

    provider: str

    @property
    def max_message_bytes(self) -> int:
        """The largest message body the backend takes on the last queue made; one byte more
        must be refused."""
        ...

    def bucket(self) -> Bucket:
        """A new, empty bucket that exists."""
        ...

    def queue(self, fifo: bool = False) -> Queue:
        """A new, empty queue that exists (ordered by group when `fifo`)."""
        ...

    def table(self) -> Table:
        """A new, empty table that exists."""
        ...

    def secret(self, value: str) -> Secret:
        """A new secret that holds `value`."""
        ...

    def missing_secret(self) -> Secret:
        """A handle to a secret that does not exist."""
        ...

    def receive(self, queue: Queue, count: int, timeout: float = 10.0) -> list[QueueMessage]:
        """Up to `count` messages of `queue` (waiting up to `timeout` seconds for them), as its
        consumer function's handler would get them, acknowledged."""
        ...

    def subscribed_topic(self, subscribers: int) -> tuple[Topic, list[Queue]]:
        """A new topic with `subscribers` subscriptions, each readable with `receive` through
        the queue returned for it (raise `Skip` where subscriptions are not available yet)."""
        ...


BINARY = bytes(range(256)) * 4
UNICODE = "grüße, 日本語, emoji ✓🚀, tab\t, newline\n, nul-free"
# Keys that every cloud and the folder twin must treat as the same key, read and listed back.
EDGE_KEYS = (
    "with space.txt",
    "plus+sign.txt",
    "100%.txt",
    "per%20cent.txt",
    "ünïcødé/日本語.txt",
    "a/b/c/deep.txt",
    "mixed dir+/x %2B y.bin",
)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _raises(kind: type[Exception], call: Callable[[], object], what: str) -> Exception:
    try:
        call()
    except kind as exc:
        return exc
    raise AssertionError(f"{what}: expected {kind.__name__}, nothing was raised")


# -- buckets ---------------------------------------------------------------------------------------


def case_bucket_round_trip_binary_and_unicode(make_handles: Callable[[], ResourceHarness]) -> None:
    bucket = make_handles().bucket()
    bucket.write("bin/all-bytes.bin", BINARY, content_type="application/octet-stream")
    _check(bucket.read("bin/all-bytes.bin") == BINARY, "binary object changed on the way")
    bucket.write("text/unicode.txt", UNICODE)
    _check(bucket.read("text/unicode.txt") == UNICODE.encode(), "unicode object changed")
    info = bucket.info("text/unicode.txt")
    _check(info is not None, "info of a written str object is None")
    assert info is not None
    _check(
        (info.content_type or "").startswith("text/plain"),
        f"a str write is text/plain, got {info.content_type!r}",
    )
    bucket.write("empty", b"")
    _check(bucket.read("empty") == b"", "empty object is not empty")


def case_bucket_edge_keys(make_handles: Callable[[], ResourceHarness]) -> None:
    bucket = make_handles().bucket()
    for key in EDGE_KEYS:
        bucket.write(key, key.encode())
    for key in EDGE_KEYS:
        _check(bucket.read(key) == key.encode(), f"key {key!r} read back other bytes")
        info = bucket.info(key)
        _check(info is not None and info.key == key, f"info of {key!r} names {info!r}")
    listed = [o.key for o in bucket.list("")]
    _check(listed == sorted(EDGE_KEYS), f"listing gave {listed}, wanted {sorted(EDGE_KEYS)}")
    _check(
        [o.key for o in bucket.list("ünïcødé/")] == ["ünïcødé/日本語.txt"],
        "a unicode prefix does not list its object",
    )
    for key in EDGE_KEYS:
        bucket.delete(key)
    _check(list(bucket.list("")) == [], "objects left after deleting every key")


def case_bucket_info_fields(make_handles: Callable[[], ResourceHarness]) -> None:
    bucket = make_handles().bucket()
    before = datetime.now(UTC) - timedelta(minutes=5)
    bucket.write(
        "doc.json",
        b'{"a": 1}',
        content_type="application/json",
        metadata={"owner": "ann", "stage": "raw"},
    )
    info = bucket.info("doc.json")
    _check(info is not None, "info of a written object is None")
    assert info is not None
    _check(info.key == "doc.json", f"info.key is {info.key!r}")
    _check(info.size == 8, f"info.size is {info.size}, wanted 8")
    _check(isinstance(info.etag, str) and bool(info.etag), f"info.etag is {info.etag!r}")
    _check(info.content_type == "application/json", f"content type {info.content_type!r}")
    _check(info.metadata == {"owner": "ann", "stage": "raw"}, f"metadata came back {info.metadata}")
    updated = info.updated
    _check(
        updated is not None and updated.tzinfo is not None and before < updated,
        f"info.updated is {updated!r}, wanted an aware time after {before}",
    )
    _check(bucket.info("absent.json") is None, "info of a missing object is not None")
    bucket.write("doc.json", b'{"a": 22}', content_type="application/json")
    again = bucket.info("doc.json")
    assert again is not None
    _check(again.size == 9 and again.etag != info.etag, "an overwrite kept the old size or etag")


def case_bucket_missing_and_delete(make_handles: Callable[[], ResourceHarness]) -> None:
    bucket = make_handles().bucket()
    _raises(NotFound, lambda: bucket.read("nothing/here"), "read of a missing object")
    bucket.write("gone.txt", b"x")
    bucket.delete("gone.txt")
    _raises(NotFound, lambda: bucket.read("gone.txt"), "read after delete")
    _check(bucket.info("gone.txt") is None, "info after delete is not None")
    bucket.delete("gone.txt")  # a missing object: not an error


def case_bucket_list_pages_past_1000(make_handles: Callable[[], ResourceHarness]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    bucket = make_handles().bucket()
    keys = [f"many/{i:05d}" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: bucket.write(k, k.encode()), keys))
    bucket.write("other/outside", b"x")
    listed = [o.key for o in bucket.list("many/")]
    _check(len(listed) == 1005, f"listed {len(listed)} objects under many/, wanted 1005")
    _check(listed == keys, "listing is not every key in key order")
    tail = list(bucket.list("many/0100"))
    _check([o.key for o in tail] == keys[1000:], f"prefix many/0100 listed {tail}")
    _check(all(o.size == 10 for o in tail), "listed objects carry wrong sizes")
    _check(len(list(bucket.list(""))) == 1006, "an empty prefix does not list everything")


def case_bucket_signed_url_get(make_handles: Callable[[], ResourceHarness]) -> None:
    from urllib.request import urlopen

    bucket = make_handles().bucket()
    bucket.write("signed/ä b+c.bin", BINARY)
    url = bucket.signed_url("signed/ä b+c.bin", "GET", timedelta(minutes=5))
    parts = urlsplit(url)
    # Tests only ever talk to this machine: a URL elsewhere is a backend bug, not fetched.
    _check(
        parts.scheme == "file" or parts.hostname in ("127.0.0.1", "localhost"),
        f"signed URL {url} does not point at this machine",
    )
    with urlopen(url, timeout=10) as resp:  # file:// or 127.0.0.1 only, checked above
        _check(resp.read() == BINARY, "the signed URL served other bytes")


# -- tables ----------------------------------------------------------------------------------------

DOCUMENT = {
    "name": "Zoë ✓",
    "count": 3,
    "price": 9.5,
    "ok": True,
    "none": None,
    "tags": ["a", "b"],
    "nested": {"deep": {"x": 1}},
}


def case_table_round_trip(make_handles: Callable[[], ResourceHarness]) -> None:
    table = make_handles().table()
    version = table.put("order-1", DOCUMENT)
    _check(isinstance(version, str) and bool(version), f"put returned {version!r}")
    got = table.get("order-1")
    _check(got is not None and dict(got) == DOCUMENT, f"get returned {got!r}")
    assert got is not None
    _check(got.version == version, f"get's version {got.version!r} is not put's {version!r}")
    _check(table.get("order-2") is None, "get of a missing document is not None")
    table.put("key with space/ü", {"v": 1})
    got2 = table.get("key with space/ü")
    _check(got2 is not None and got2["v"] == 1, "a key with a space, '/' and unicode")
    table.delete("order-1")
    _check(table.get("order-1") is None, "get after delete is not None")
    table.delete("order-1")  # missing: not an error


def case_table_conditional_writes(make_handles: Callable[[], ResourceHarness]) -> None:
    table = make_handles().table()
    v1 = table.put("k", {"n": 1}, if_absent=True)
    _raises(Conflict, lambda: table.put("k", {"n": 9}, if_absent=True), "if_absent on existing")
    v2 = table.put("k", {"n": 2}, if_version=v1)
    _check(v2 != v1, "a write kept the version")
    _raises(Conflict, lambda: table.put("k", {"n": 9}, if_version=v1), "if_version stale")
    got = table.get("k")
    _check(got is not None and got["n"] == 2 and got.version == v2, f"lost write left {got!r}")
    _raises(Conflict, lambda: table.delete("k", if_version=v1), "delete with stale if_version")
    table.delete("k", if_version=v2)
    _check(table.get("k") is None, "conditional delete did not delete")
    _raises(Conflict, lambda: table.put("k", {"n": 3}, if_version=v2), "if_version on absent")
    v3 = table.put("k", {"n": 3}, if_absent=True)
    _check(isinstance(v3, str), "if_absent after delete failed")


def case_table_concurrent_if_absent(make_handles: Callable[[], ResourceHarness]) -> None:
    table = make_handles().table()
    wins: list[int] = []
    conflicts: list[int] = []
    start = threading.Barrier(8)

    def claim(i: int) -> None:
        start.wait()
        try:
            table.put("claim", {"by": i}, if_absent=True)
            wins.append(i)
        except Conflict:
            conflicts.append(i)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check(len(wins) == 1 and len(conflicts) == 7, f"{wins} won, {conflicts} conflicted")
    got = table.get("claim")
    _check(got is not None and got["by"] == wins[0], "the stored document is not the winner's")


def case_table_concurrent_if_version_counter(make_handles: Callable[[], ResourceHarness]) -> None:
    table = make_handles().table()
    table.put("counter", {"n": 0})
    workers, each = 6, 5
    conflicts: list[int] = []

    def bump() -> None:
        for _ in range(each):
            while True:
                doc = table.get("counter")
                assert doc is not None
                try:
                    table.put("counter", {"n": doc["n"] + 1}, if_version=doc.version)
                    break
                except Conflict:
                    conflicts.append(1)

    threads = [threading.Thread(target=bump) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = table.get("counter")
    _check(
        got is not None and got["n"] == workers * each,
        f"counter is {got!r} after {workers * each} increments: a write was lost",
    )


# -- secrets ---------------------------------------------------------------------------------------


def case_secret_value_and_missing(make_handles: Callable[[], ResourceHarness]) -> None:
    harness = make_handles()
    secret = harness.secret("s3cr3t ✓ value")
    _check(secret.value() == "s3cr3t ✓ value", "secret value changed")
    missing = harness.missing_secret()
    error = _raises(NotFound, missing.value, "value of a missing secret")
    _check(missing.name in str(error), f"NotFound does not name the secret: {error}")


# -- queues and topics -----------------------------------------------------------------------------


def _by_body(messages: list[QueueMessage]) -> dict[bytes, QueueMessage]:
    return {m.body: m for m in messages}


def case_queue_send_receive_identical(make_handles: Callable[[], ResourceHarness]) -> None:
    harness = make_handles()
    queue = harness.queue()
    ids = {
        queue.send(BINARY, attributes={"kind": "binary", "trace": "a b/c+d"}),
        queue.send(UNICODE),
        queue.send({"order": 7, "name": "Zoë"}),
    }
    _check(len(ids) == 3 and all(isinstance(i, str) and i for i in ids), f"send ids {ids}")
    got = _by_body(harness.receive(queue, 3))
    _check(BINARY in got, f"binary body changed; got bodies {[b[:20] for b in got]}")
    _check(
        got[BINARY].attributes == {"kind": "binary", "trace": "a b/c+d"},
        f"attributes came back {got[BINARY].attributes}",
    )
    _check(UNICODE.encode() in got, "unicode body changed")
    _check(got[UNICODE.encode()].attributes == {}, "a message without attributes got some")
    json_bodies = [m for m in got.values() if m.body.startswith(b"{")]
    _check(
        len(json_bodies) == 1 and json_bodies[0].json() == {"order": 7, "name": "Zoë"},
        "a dict body is not its JSON",
    )


def case_queue_fifo_group(make_handles: Callable[[], ResourceHarness]) -> None:
    harness = make_handles()
    queue = harness.queue(fifo=True)
    for i in range(3):
        queue.send(f"m{i}", group="customer-1", attributes={"i": str(i)})
    got: list[QueueMessage] = []
    for _ in range(3):
        got.extend(harness.receive(queue, 3 - len(got)))
        if len(got) == 3:
            break
    _check([m.body for m in got] == [b"m0", b"m1", b"m2"], f"group order {[m.body for m in got]}")
    _check(all(m.group == "customer-1" for m in got), f"groups {[m.group for m in got]}")
    _check([m.attributes for m in got] == [{"i": "0"}, {"i": "1"}, {"i": "2"}], "attributes")


def case_queue_send_batch_partial_failure(make_handles: Callable[[], ResourceHarness]) -> None:
    harness = make_handles()
    queue = harness.queue()
    too_big = b"x" * (harness.max_message_bytes + 1)
    result = queue.send_batch([b"one", too_big, {"body": "three", "attributes": {"n": "3"}}])
    _check(not result.ok, "a batch with an oversize entry reported no failure")
    _check([i for i, _ in result.failed] == [1], f"failed entries {result.failed}")
    _check(isinstance(result.failed[0][1], ResourceError), "a failure is not a ResourceError")
    _check(result.ids[1] is None and all(result.ids[i] for i in (0, 2)), f"ids {result.ids}")
    got = _by_body(harness.receive(queue, 3, timeout=5))
    _check(set(got) == {b"one", b"three"}, f"received {sorted(got)}, wanted one and three")
    _check(got[b"three"].attributes == {"n": "3"}, "a batch entry lost its attributes")


def case_queue_oversize_send_refused(make_handles: Callable[[], ResourceHarness]) -> None:
    harness = make_handles()
    queue = harness.queue()
    error = _raises(
        ResourceError,
        lambda: queue.send(b"x" * (harness.max_message_bytes + 1)),
        "send of an oversize message",
    )
    _check(queue.name in str(error), f"the error does not name the queue: {error}")
    queue.send(b"x" * harness.max_message_bytes)  # exactly the limit fits


def case_topic_publish_reaches_every_subscriber(
    make_handles: Callable[[], ResourceHarness],
) -> None:
    harness = make_handles()
    topic, subscriptions = harness.subscribed_topic(2)
    topic.publish(BINARY, attributes={"event": "created"})
    topic.publish({"n": 1})
    for queue in subscriptions:
        got = _by_body(harness.receive(queue, 2))
        _check(BINARY in got, f"subscription {queue.name} lost the binary body")
        _check(got[BINARY].attributes == {"event": "created"}, "a subscriber lost attributes")
        _check(b'{"n":1}' in got or b'{"n": 1}' in got, "a subscriber lost the JSON body")


# -- idempotency on the backend's Table ---------------------------------------------------------


def case_idempotent_once_per_key(make_handles: Callable[[], ResourceHarness]) -> None:
    """`idempotent` on this backend's Table: once per key, stored result, failure stores nothing,
    a concurrent duplicate fails with Conflict (a queue handler, called as its adapter would)."""
    from polyfn import Context, QueueMessage, idempotent

    harness = make_handles()
    table = harness.table()
    calls: list[str] = []
    gate = threading.Event()

    @idempotent(table, key="attributes.order", ttl=300)
    def charge(msg: QueueMessage, ctx: Context) -> object:
        calls.append(msg.id)
        if msg.body == b"fail":
            raise RuntimeError("declined")
        if msg.body == b"slow":
            gate.wait(20)
        return {"charged": msg.attributes["order"], "run": len(calls)}

    def message(message_id: str, order: str, body: bytes = b"ok") -> QueueMessage:
        return QueueMessage(message_id, body, queue="payments", attributes={"order": order})

    ctx = Context(harness.provider, "charge", "conformance")
    _check(charge(message("1", "A"), ctx) == {"charged": "A", "run": 1}, "first run")
    _check(charge(message("2", "A"), ctx) == {"charged": "A", "run": 1}, "a repeat ran again")
    _check(calls == ["1"], f"handler ran for {calls}")
    _raises(RuntimeError, lambda: charge(message("3", "B", b"fail"), ctx), "a failing run")
    _check(charge(message("4", "B"), ctx) == {"charged": "B", "run": 3}, "retry after failure")
    slow = threading.Thread(target=lambda: charge(message("5", "C", b"slow"), ctx))
    slow.start()
    try:
        deadline = time.monotonic() + 20
        while "5" not in calls and time.monotonic() < deadline:
            time.sleep(0.02)
        _raises(Conflict, lambda: charge(message("6", "C"), ctx), "a concurrent duplicate")
    finally:
        gate.set()
        slow.join(30)
    _check(calls == ["1", "3", "4", "5"], f"handler ran for {calls}")


CASES: list[Callable[[Callable[[], ResourceHarness]], None]] = [
    case_bucket_round_trip_binary_and_unicode,
    case_bucket_edge_keys,
    case_bucket_info_fields,
    case_bucket_missing_and_delete,
    case_bucket_list_pages_past_1000,
    case_bucket_signed_url_get,
    case_table_round_trip,
    case_table_conditional_writes,
    case_table_concurrent_if_absent,
    case_table_concurrent_if_version_counter,
    case_secret_value_and_missing,
    case_queue_send_receive_identical,
    case_queue_fifo_group,
    case_queue_send_batch_partial_failure,
    case_queue_oversize_send_refused,
    case_topic_publish_reaches_every_subscriber,
    case_idempotent_once_per_key,
]
