"""`polyfn.testing.Client` delivers what handlers cause, as `polyfn serve` would."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyfn import App, Bucket, ConfigError, Queue, QueueMessage, StorageEvent
from polyfn.testing import Client

inbox = Bucket("inbox")
work = Queue("work")


def test_put_object_stores_the_object_for_the_handler_to_read(tmp_path: Path) -> None:
    app = App("reader")
    read: list[bytes] = []

    @app.storage(inbox, uses=[inbox.read])
    def on_object(event: StorageEvent, ctx):
        read.append(inbox.read(event.key))

    client = Client(app, state_dir=tmp_path)
    assert client.put_object("inbox", "in/a b+c.csv", b"1,2\n") == ["on_object"]
    assert read == [b"1,2\n"]
    assert (tmp_path / "storage" / "inbox" / "in" / "a b+c.csv").read_bytes() == b"1,2\n"
    client.delete_object("inbox", "in/a b+c.csv")
    with client:
        assert inbox.info("in/a b+c.csv") is None


def chain_app(seen: list[str], *, fail: bool = False) -> App:
    app = App("chain")

    @app.http("/go", methods=["POST"], uses=[work.send])
    def go(req, ctx):
        work.send(req.body, attributes={"from": "http"})
        return {"sent": True}

    @app.queue(work, uses=[inbox.write])
    def worker(msg: QueueMessage, ctx):
        if fail:
            raise RuntimeError("worker broke")
        seen.append(f"worker:{msg.body.decode()}:{msg.attributes['from']}")
        inbox.write(f"out/{msg.body.decode()}", msg.body)

    @app.storage(inbox, prefix="out/")
    def indexed(event: StorageEvent, ctx):
        seen.append(f"storage:{event.key}")

    return app


def test_a_call_returns_after_everything_it_caused_ran(tmp_path: Path) -> None:
    seen: list[str] = []
    client = Client(chain_app(seen), state_dir=tmp_path)
    assert client.post("/go", body=b"x1").status == 200
    assert seen == ["worker:x1:http", "storage:out/x1"]


def test_deliver_false_leaves_messages_for_drain(tmp_path: Path) -> None:
    seen: list[str] = []
    client = Client(chain_app(seen), state_dir=tmp_path, deliver=False)
    client.post("/go", body=b"x2")
    assert seen == [] and [m.body for m in client.messages("work")] == [b"x2"]
    assert client.drain() == 2
    assert seen == ["worker:x2:http", "storage:out/x2"] and client.messages("work") == []


def test_a_downstream_failure_propagates_and_the_message_stays(tmp_path: Path) -> None:
    client = Client(chain_app([], fail=True), state_dir=tmp_path)
    with pytest.raises(RuntimeError, match="worker broke"):
        client.post("/go", body=b"x3")
    (left,) = client.messages("work")
    assert (left.body, left.delivery_count, left.receipt) == (b"x3", 1, None)


def test_a_function_that_feeds_itself_is_stopped(tmp_path: Path) -> None:
    app = App("loop")

    @app.queue(work, uses=[work.send])
    def again(msg: QueueMessage, ctx):
        work.send(msg.body)

    client = Client(app, state_dir=tmp_path)
    client.MAX_DRAIN_ROUNDS = 5
    with pytest.raises(ConfigError, match="kept causing new events after 5 rounds"):
        client.send("work", b"forever")


def test_with_client_pins_the_local_twins_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "looks-like-lambda")
    with Client(App("empty"), state_dir=tmp_path):
        inbox.write("k", b"v")
    assert (tmp_path / "storage" / "inbox" / "k").read_bytes() == b"v"


def test_dropped_apps_leave_no_state_binding_behind(tmp_path: Path) -> None:
    import gc

    from polyfn._local import _resources

    gc.collect()
    before = len(_resources._BOUND)
    for i in range(5):
        Client(App(f"short-lived-{i}"), state_dir=tmp_path)
    gc.collect()
    # A binding per app ever tested would grow without end, and a new app that happened to get
    # a dropped app's id would inherit its state folder.
    assert len(_resources._BOUND) == before
