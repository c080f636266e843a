"""Helpers for testing a polyfn app in process, through the same core the clouds use.

::

    from polyfn.testing import Client

    client = Client(app)
    resp = client.get("/orders/42?expand=items", headers={"Accept": "application/json"})
    assert resp.status == 200 and client.json(resp)["id"] == "42"
    client.tick("nightly")
    client.put_object("uploads", "incoming/a.csv", b"id,total\\n1,9.99\\n")
    client.send("orders", {"order_id": 42}, attributes={"source": "test"})
    client.publish("order-events", {"order_id": 42})  # every subscriber runs

Every call runs with provider ``"local"`` and writes the local runtime's log line. A handler's
raise propagates out of `tick`, `put_object` and `send` (the event failed); HTTP calls return the
response the app gives, 500 included, as the clouds would.

Resources: the handlers' `Bucket`, `Queue`, `Topic`, `Table` and `Secret` handles use the local
twins in the client's state folder (`state_dir`, a fresh temporary folder unless given). What a
handler causes is then delivered as `polyfn serve` would, before the call returns: an object it
writes fires the storage functions, a message it sends runs the queue function, and so on until
nothing is left (`drain`; ``deliver=False`` leaves it to you). A downstream handler's raise fails
its message (back on the queue, its delivery counted) and propagates from the call. Inside
``with client:``, handles used by the test itself (``carts.get("42")``) see the same folder.
"""

from __future__ import annotations

import json as _json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from polyfn._errors import ConfigError
from polyfn._http import HttpRequest
from polyfn._local._invoke import (
    deliver_message,
    fire_storage,
    fire_timer,
    handle_request,
    queue_message,
    stored_queue_message,
)
from polyfn._local._resources import LocalBucket, LocalState, bind_state, using_state
from polyfn._local._storage import object_event, object_path

if TYPE_CHECKING:
    from collections.abc import Iterable
    from contextvars import Token

    from polyfn._app import App, Function
    from polyfn._events import StorageEvent
    from polyfn._http import HttpResponse
    from polyfn._local._queue import StoredMessage

__all__ = ["Client"]

_T = TypeVar("_T")


class Client:
    """Calls `app`'s functions the way the local runtime does, without a server."""

    # A storage function that writes to its own bucket would fire itself for ever.
    MAX_DRAIN_ROUNDS = 100

    def __init__(
        self,
        app: App,
        *,
        source_ip: str = "127.0.0.1",
        state_dir: str | Path | None = None,
        deliver: bool = True,
        storage_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """`state_dir` holds the resources' local twins (a fresh temporary folder by default);
        `storage_dir` the folder per bucket, as `polyfn serve`'s ``.polyfn/storage`` (by default
        ``storage`` inside `state_dir`): an object put is written there, and its storage event's
        ``raw["path"]`` names the file."""
        self.app = app
        self.source_ip = source_ip
        self.deliver = deliver
        if state_dir is None:
            state_dir = _temporary_state_dir(self)
        self._events: list[StorageEvent] = []
        self.state = LocalState(
            state_dir,
            Path(storage_dir) if storage_dir is not None else None,
            on_write=self._events.append,
        )
        bind_state(app, self.state)
        from polyfn._local._runtime import subscribe_all

        subscribe_all(app, self.state)
        self._tokens: list[tuple[Token[LocalState | None], object]] = []

    @property
    def state_dir(self) -> Path:
        """The folder holding the resources' local twins (see docs/resources.md)."""
        return self.state.state_dir

    def __enter__(self) -> Client:
        """Inside ``with client:``, the test's own handle calls use the local twins in this
        client's state folder (whatever cloud the environment suggests)."""
        from polyfn._local._resources import _CURRENT_STATE
        from polyfn._resources import enter_invocation

        self._tokens.append((_CURRENT_STATE.set(self.state), enter_invocation("local", None)))
        return self

    def __exit__(self, *exc: object) -> None:
        from polyfn._local._resources import _CURRENT_STATE
        from polyfn._resources import exit_invocation

        state, provider = self._tokens.pop()
        exit_invocation(provider)
        _CURRENT_STATE.reset(state)

    def _then_deliver(self, result: _T) -> _T:
        if self.deliver:
            self.drain()
        return result

    def drain(self) -> int:
        """Deliver what handlers caused, as `polyfn serve` would, until nothing is left: fire
        the storage functions of the objects they wrote or deleted, run the queue functions and
        topic subscribers on the messages waiting in their queues. Returns how many invocations
        ran. Messages on queues no function of the app consumes stay there (`messages`)."""
        from polyfn._local._runtime import consumers

        ran = 0
        for _ in range(self.MAX_DRAIN_ROUNDS):
            progressed = False
            while self._events:
                event = self._events.pop(0)
                ran += len(fire_storage(self.app, event))
                progressed = True
            for function in consumers(self.app):
                for stored in self._receive(function):
                    self._deliver_stored(function, stored)
                    ran += 1
                    progressed = True
            if not progressed:
                return ran
        raise ConfigError(
            f"app {self.app.name!r} kept causing new events after {self.MAX_DRAIN_ROUNDS} rounds "
            "of delivery: does a storage function write into the bucket that triggers it, or a "
            "queue function send to its own queue?"
        )

    def _receive(self, function: Function) -> list[StoredMessage]:
        from polyfn._local._runtime import consumed

        reads = consumed(function)
        timeout = function.settings.timeout or 30.0
        return self.state.queue.receive(reads.queue, reads.batch_size, timeout, fifo=reads.fifo)

    def _deliver_stored(self, function: Function, stored: StoredMessage) -> None:
        from polyfn._local._runtime import consumed, dead_letter_queue, max_deliveries

        # A subscriber's message names its topic, not its subscription queue (as under serve).
        message = stored_queue_message(stored, consumed(function).name)
        try:
            deliver_message(self.app, function, message)
        except Exception as exc:
            self.state.queue.fail(
                stored,
                max_deliveries=max_deliveries(function),
                dead_letter=dead_letter_queue(function),
                error=repr(exc),
            )
            raise
        self.state.queue.ack(stored)

    def messages(self, queue: str) -> list[StoredMessage]:
        """The messages waiting (or dead-lettered: ``<queue>-dead``) on `queue` in the state
        folder."""
        return self.state.queue.messages(queue)

    # -- HTTP --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | str = b"",
        json: Any = None,
    ) -> HttpResponse:
        """Send one request through the app's router; `path` may carry ``?query``."""
        path, _, raw_query = path.partition("?")
        if headers is None:
            pairs: list[tuple[str, str]] = []
        elif isinstance(headers, Mapping):
            pairs = list(headers.items())
        else:
            pairs = list(headers)
        if json is not None:
            body = _json.dumps(json).encode()
            if not any(name.lower() == "content-type" for name, _ in pairs):
                pairs.append(("Content-Type", "application/json"))
        data = body.encode() if isinstance(body, str) else bytes(body)
        req = HttpRequest(
            method,
            path,
            query=query if query is not None else raw_query,
            headers=pairs,
            body=data,
            source_ip=self.source_ip,
        )
        return self._then_deliver(handle_request(self.app, req))

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)

    @staticmethod
    def json(resp: HttpResponse) -> Any:
        """A response's body parsed as JSON."""
        return _json.loads(resp.body)

    # -- other triggers ----------------------------------------------------------------------

    def tick(
        self, function: str, *, scheduled_time: datetime | None = None, past_due: bool = False
    ) -> Any:
        """Fire schedule `function` once; returns what the handler returned."""
        return self._then_deliver(
            fire_timer(self.app, self.app.function(function), scheduled_time, past_due=past_due)
        )

    def put_object(
        self, bucket: str, key: str, data: bytes | str = b"", *, content_type: str | None = None
    ) -> list[str]:
        """An object created in `bucket`: stores it in the bucket's local folder (so a handler
        can read it), runs the storage functions bound to it (by bucket, prefix and suffix) and
        returns their names. The event is the one `polyfn serve` reports for that file."""
        object_path(self.state.storage_dir / bucket, key)  # ConfigError for a key no file holds
        raw = data.encode() if isinstance(data, str) else bytes(data)
        with using_state(self.state):
            path = LocalBucket(bucket).store(key, raw, content_type, {})
        event = object_event("created", bucket, key, path, content_type=content_type)
        return self._then_deliver([f.name for f in fire_storage(self.app, event)])

    def delete_object(self, bucket: str, key: str) -> list[str]:
        """An object deleted from `bucket`: removes it from the bucket's local folder, runs the
        bound storage functions and returns their names."""
        path = object_path(self.state.storage_dir / bucket, key)
        with using_state(self.state):
            LocalBucket(bucket).remove(key)
        event = object_event("deleted", bucket, key, path)
        return self._then_deliver([f.name for f in fire_storage(self.app, event)])

    def send(
        self,
        queue: str,
        body: bytes | str | dict[str, Any] | list[Any],
        *,
        attributes: Mapping[str, str] | None = None,
        group: str | None = None,
        delivery_count: int = 1,
    ) -> Any:
        """Deliver one message to the function bound to `queue`; returns what it returned."""
        function = self.app.queue_function(queue)
        if function is None:
            queues = [getattr(f.trigger, "queue", "") for f in self.app.functions_of("queue")]
            raise ConfigError(
                f"app {self.app.name!r} has no function on queue {queue!r}; its queues: "
                + (", ".join(queues) or "none")
            )
        if isinstance(body, dict | list):
            data = _json.dumps(body).encode()
        else:
            data = body.encode() if isinstance(body, str) else bytes(body)
        message = queue_message(
            str(uuid.uuid4()),
            data,
            queue,
            attributes=dict(attributes or {}),
            delivery_count=delivery_count,
            enqueued=datetime.now(UTC).timestamp(),
            group=group,
        )
        return self._then_deliver(deliver_message(self.app, function, message))

    def publish(
        self,
        topic: str,
        body: bytes | str | dict[str, Any] | list[Any],
        *,
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Publish one message to `topic` through its local twin, as a handler's
        ``Topic(topic).publish`` would: each subscriber gets its own copy on its subscription
        queue and (unless ``deliver=False``) runs before this returns. Returns the message id;
        a subscriber's raise propagates, its copy back on its queue."""
        from polyfn._resources import Topic

        with self:
            message_id = Topic(topic).publish(body, attributes=attributes)
        return self._then_deliver(message_id)


def _temporary_state_dir(owner: Client) -> Path:
    """A fresh state folder, removed with its client (or when the process exits)."""
    import shutil
    import tempfile
    import weakref

    folder = tempfile.mkdtemp(prefix="polyfn-state-")
    weakref.finalize(owner, shutil.rmtree, folder, ignore_errors=True)
    return Path(folder)
