"""The core handles' own rules, checked on the local backend."""

from __future__ import annotations

import json
from pathlib import Path

from polyfn import App, Queue, ResourceError, Secret
from polyfn._local._queue import LocalQueue
from polyfn._resources import _GENERATION, reset_backends
from polyfn.testing import Client


def test_send_batch_reports_invalid_entries_and_sends_the_rest(state_dir: Path) -> None:
    queue = Queue("ordered", fifo=True)
    result = queue.send_batch(
        [
            {"body": "a", "group": "g"},
            {"body": "no group"},
            {"body": "c", "group": "g", "attributes": {"k": 1}},
            {"body": "d", "group": "g", "delay": -1},
            {"body": "e", "group": "g"},
        ]
    )
    assert [i for i, _ in result.failed] == [1, 2, 3]
    assert all(isinstance(e, ResourceError) for _, e in result.failed)
    assert "group=" in str(result.failed[0][1]) and result.ids[0] and result.ids[4]
    bodies = [m.body for m in LocalQueue(state_dir / "queues.db").messages("ordered")]
    assert bodies == [b"a", b"e"]


def test_a_dict_with_other_keys_than_an_entry_is_a_json_body(state_dir: Path) -> None:
    queue = Queue("plain")
    queue.send_batch([{"body": "hello", "to": "ann"}, {"body": "entry"}])
    bodies = [m.body for m in LocalQueue(state_dir / "queues.db").messages("plain")]
    assert [json.loads(bodies[0]), bodies[1]] == [{"body": "hello", "to": "ann"}, b"entry"]


def test_a_cached_secret_stays_with_its_state_folder(tmp_path: Path) -> None:
    token = Secret("token")  # the default ttl caches the value in the process
    app = App("secrets")
    seen: list[str] = []

    @app.http("/", uses=[token.value])
    def read(req, ctx):
        seen.append(token.value())

    for n in ("1", "2"):
        folder = tmp_path / n
        folder.mkdir()
        (folder / "secrets.json").write_text(json.dumps({"token": f"value-{n}"}))
        Client(app, state_dir=folder).get("/")
    assert seen == ["value-1", "value-2"]


def test_reset_backends_drops_the_clients_of_every_handle(state_dir: Path) -> None:
    queue = Queue("q")
    queue.send(b"x")
    first = dict(queue._clients)
    assert first
    reset_backends()
    generation = _GENERATION[0]
    queue.send(b"y")
    assert queue._generation == generation
    assert all(first[k] is not queue._clients[k] for k in first)
