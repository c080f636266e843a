"""Helpers for testing a polyfn app in process, through the same core the clouds use.

::

    from polyfn.testing import Client

    client = Client(app)
    resp = client.get("/orders/42?expand=items", headers={"Accept": "application/json"})
    assert resp.status == 200 and client.json(resp)["id"] == "42"
    client.tick("nightly")
    client.put_object("uploads", "incoming/a.csv", b"id,total\\n1,9.99\\n")
    client.send("orders", {"order_id": 42}, attributes={"source": "test"})

Every call runs with provider ``"local"`` and writes the local runtime's log line. A handler's
raise propagates out of `tick`, `put_object` and `send` (the event failed); HTTP calls return the
response the app gives, 500 included, as the clouds would.
"""

from __future__ import annotations

import json as _json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyfn._errors import ConfigError
from polyfn._http import HttpRequest
from polyfn._local._invoke import (
    deliver_message,
    fire_storage,
    fire_timer,
    handle_request,
    queue_message,
)
from polyfn._local._storage import object_event, object_path

if TYPE_CHECKING:
    from collections.abc import Iterable

    from polyfn._app import App
    from polyfn._http import HttpResponse

__all__ = ["Client"]


class Client:
    """Calls `app`'s functions the way the local runtime does, without a server."""

    def __init__(
        self,
        app: App,
        *,
        source_ip: str = "127.0.0.1",
        storage_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """`storage_dir` holds a folder per bucket, as `polyfn serve`'s ``.polyfn/storage``: an
        object put is written there, and its storage event's ``raw["path"]`` names the file.
        Without it, a temporary folder is made on the first put and removed with the client."""
        self.app = app
        self.source_ip = source_ip
        self._storage_dir = Path(storage_dir) if storage_dir is not None else None

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
        return handle_request(self.app, req)

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
        return fire_timer(self.app, self.app.function(function), scheduled_time, past_due=past_due)

    def put_object(
        self, bucket: str, key: str, data: bytes | str = b"", *, content_type: str | None = None
    ) -> list[str]:
        """An object created in `bucket`: runs the storage functions bound to it (by bucket,
        prefix and suffix) and returns their names."""
        path = self._object_file(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else bytes(data))
        # The event `polyfn serve` reports for a file dropped into the bucket's folder.
        event = object_event("created", bucket, key, path, content_type=content_type)
        return [f.name for f in fire_storage(self.app, event)]

    def delete_object(self, bucket: str, key: str) -> list[str]:
        """An object deleted from `bucket` (its file removed, if `put_object` wrote one): runs the
        bound storage functions, returns their names."""
        path = self._object_file(bucket, key)
        path.unlink(missing_ok=True)
        event = object_event("deleted", bucket, key, path)
        return [f.name for f in fire_storage(self.app, event)]

    def _object_file(self, bucket: str, key: str) -> Path:
        if self._storage_dir is None:
            import shutil
            import tempfile
            import weakref

            folder = tempfile.mkdtemp(prefix="polyfn-testing-")
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            self._storage_dir = Path(folder)
        return object_path(self._storage_dir / bucket, key)

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
        return deliver_message(self.app, function, message)
