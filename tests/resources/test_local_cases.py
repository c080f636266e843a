"""The neutral resource cases (conformance/resources.py) on the local twins."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conformance._spec import Skip
from conformance.resources import CASES, ResourceHarness
from polyfn import Bucket, Queue, QueueMessage, Secret, Table, Topic
from polyfn._local._invoke import stored_queue_message
from polyfn._local._resources import MAX_MESSAGE_BYTES, current_state, subscription_queue


class LocalHarness:
    """Fresh local resources in the test's state folder; `receive` reads the SQLite queue as
    `polyfn serve` does and builds the QueueMessage its consumer would get."""

    provider = "local"
    max_message_bytes = MAX_MESSAGE_BYTES

    def __init__(self, state: Path) -> None:
        self.state = state

    @staticmethod
    def _name(prefix: str) -> str:
        return prefix + uuid.uuid4().hex[:10]

    def bucket(self) -> Bucket:
        return Bucket(self._name("b-"))

    def queue(self, fifo: bool = False) -> Queue:
        return Queue(self._name("q-"), fifo=fifo)

    def table(self) -> Table:
        return Table(self._name("t"))

    def secret(self, value: str) -> Secret:
        secret = Secret(self._name("s-"))
        path = self.state / "secrets.json"
        found = json.loads(path.read_text()) if path.exists() else {}
        found[secret.name] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found))
        return secret

    def missing_secret(self) -> Secret:
        return Secret(self._name("missing-"))

    def receive(self, queue: Queue, count: int, timeout: float = 10.0) -> list[QueueMessage]:
        store = current_state().queue
        taken = store.receive(queue.name, count, 30.0, fifo=queue.fifo)
        for stored in taken:
            store.ack(stored)
        return [stored_queue_message(s) for s in taken]

    def subscribed_topic(self, subscribers: int) -> tuple[Topic, list[Queue]]:
        topic = Topic(self._name("topic-"))
        queues = [Queue(subscription_queue(topic.name, f"fn{i}")) for i in range(subscribers)]
        for queue in queues:
            current_state().subscribe(topic.name, queue.name)
        return topic, queues


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_resource_case_on_local(case, state_dir: Path) -> None:
    def make_handles() -> ResourceHarness:
        return LocalHarness(state_dir)

    try:
        case(make_handles)
    except Skip as why:
        pytest.skip(str(why))
