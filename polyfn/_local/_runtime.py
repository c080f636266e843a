"""`LocalRuntime`: every trigger of one app, served on this machine.

HTTP on `host:port`; schedules fired on their cron or rate (and on demand through
``POST /_polyfn/tick/<function>``); storage buckets as folders under `storage_dir`; queues in the
SQLite file ``<state_dir>/queues.db``. One thread each for the HTTP server, the scheduler, the
folder watcher and each queue function; `stop()` lets running handlers finish and returns.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyfn._app import HttpTrigger, QueueTrigger, ScheduleTrigger, StorageTrigger
from polyfn._http import HttpResponse
from polyfn._local._cron import next_fire
from polyfn._local._http_server import CONTROL_PREFIX, LocalHttpServer
from polyfn._local._invoke import (
    LOGGER_NAME,
    deliver_message,
    fire_timer,
    handle_request,
    queue_message,
    run_storage_function,
)
from polyfn._local._queue import DEAD_LETTER_SUFFIX, LocalQueue
from polyfn._local._storage import FolderWatcher

if TYPE_CHECKING:
    from polyfn._app import App, Function
    from polyfn._events import StorageEvent
    from polyfn._http import HttpRequest

# The clouds' defaults where a function declares no setting:
# Azure Storage queues dead-letter after maxDequeueCount = 5 deliveries
# (https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json);
# Lambda retries a failed asynchronous (S3) invocation twice
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
DEFAULT_MAX_DELIVERIES = 5
DEFAULT_STORAGE_RETRIES = 2
DEFAULT_VISIBILITY_TIMEOUT = 30.0
# A tick that starts this late after its time is reported past due, like Azure's IsPastDue.
PAST_DUE_AFTER = timedelta(seconds=15)


def max_deliveries(function: Function) -> int:
    """How many deliveries a message gets: `retries` + 1 when declared, else the default."""
    retries = function.settings.retries
    return retries + 1 if retries is not None else DEFAULT_MAX_DELIVERIES


def dead_letter_queue(function: Function) -> str:
    trigger = function.trigger
    assert isinstance(trigger, QueueTrigger)
    return function.settings.dead_letter or trigger.queue + DEAD_LETTER_SUFFIX


class LocalRuntime:
    def __init__(
        self,
        app: App,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        state_dir: Path = Path(".polyfn"),
        storage_dir: Path | None = None,
        poll_interval: float = 0.2,
        visibility_timeout: float | None = None,
        run_schedules: bool = True,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.state_dir = state_dir
        self.storage_dir = storage_dir or state_dir / "storage"
        self.poll_interval = poll_interval
        self.visibility_timeout = visibility_timeout
        self.run_schedules = run_schedules
        self.queue = LocalQueue(state_dir / "queues.db")
        self.started_at = datetime.now(UTC)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="polyfn-local")
        self._server: LocalHttpServer | None = None
        self._watcher: FolderWatcher | None = None
        self.log = logging.getLogger(LOGGER_NAME)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Bind the port and start every trigger's thread; returns at once."""
        self._server = LocalHttpServer((self.host, self.port), self._http, self._control)
        self.port = self._server.server_address[1]
        self._spawn("http", self._server.serve_forever, 0.2)
        released = self.queue.release_orphans()
        if released:
            self.log.info(
                "redelivering messages left in flight by a stopped runtime",
                extra={"count": released},
            )
        if self.run_schedules and self.app.functions_of("schedule"):
            self._spawn("scheduler", self._schedule_loop)
        storage = [f.trigger for f in self.app.functions if isinstance(f.trigger, StorageTrigger)]
        if storage:
            buckets = [t.bucket for t in storage]
            prefixes = [(t.bucket, t.prefix) for t in storage]
            self._watcher = FolderWatcher(self.storage_dir, buckets, prefixes)
            self._spawn("storage", self._watch_loop)
        for function in self.app.functions_of("queue"):
            self._spawn(f"queue-{function.name}", self._queue_loop, function)

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=f"polyfn-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until `stop()` is requested (or `timeout` passes); True once stopping."""
        return self._stop.wait(timeout)

    def request_stop(self) -> None:
        """Ask the runtime to stop (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting work, let running handlers finish (up to `timeout`), and return."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- HTTP --------------------------------------------------------------------------------

    def _http(self, req: HttpRequest) -> HttpResponse:
        return handle_request(self.app, req)

    def _control(self, req: HttpRequest) -> HttpResponse:
        """``GET /_polyfn`` describes the app; ``POST /_polyfn/tick/<fn>`` fires a schedule;
        ``POST /_polyfn/send/<queue>`` enqueues the body (query parameters become attributes)."""
        parts = [p for p in req.path[len(CONTROL_PREFIX) :].split("/") if p]
        if not parts and req.method == "GET":
            return HttpResponse.json(self.describe())
        if len(parts) == 2 and parts[0] == "tick" and req.method == "POST":
            return self._tick(parts[1])
        if len(parts) == 2 and parts[0] == "send" and req.method == "POST":
            attributes = dict(req.query.multi_items())
            group = attributes.pop("group", None)
            message_id = self.queue.send(parts[1], req.body, attributes=attributes, group=group)
            return HttpResponse.json({"id": message_id, "queue": parts[1]}, 202)
        return HttpResponse.json(
            {
                "error": "unknown control request",
                "try": [
                    "GET /_polyfn",
                    "POST /_polyfn/tick/<function>",
                    "POST /_polyfn/send/<queue>",
                ],
            },
            404,
        )

    def _tick(self, name: str) -> HttpResponse:
        function = next((f for f in self.app.functions if f.name == name), None)
        if function is None or not isinstance(function.trigger, ScheduleTrigger):
            names = [f.name for f in self.app.functions_of("schedule")]
            return HttpResponse.json(
                {"error": f"no schedule function {name!r}", "schedules": names}, 404
            )
        try:
            fire_timer(self.app, function)
        except Exception as exc:
            return HttpResponse.json(
                {"function": name, "outcome": "error", "error": repr(exc)}, 500
            )
        return HttpResponse.json({"function": name, "outcome": "ok"})

    def describe(self) -> dict[str, Any]:
        functions = []
        for f in self.app.functions:
            entry: dict[str, Any] = {"name": f.name, "trigger": f.kind}
            t = f.trigger
            if isinstance(t, ScheduleTrigger):
                entry["schedule"] = str(t.schedule)
                entry["next"] = next_fire(
                    t.schedule, datetime.now(UTC), origin=self.started_at
                ).isoformat()
            elif isinstance(t, StorageTrigger):
                entry["folder"] = str((self.storage_dir / t.bucket).resolve())
            elif isinstance(t, QueueTrigger):
                entry["queue"] = t.queue
                entry["dead_letter"] = dead_letter_queue(f)
                entry["max_deliveries"] = max_deliveries(f)
            elif isinstance(t, HttpTrigger):
                entry["methods"] = list(t.methods)
                entry["path"] = t.path
            else:
                entry["topic"] = t.topic
            functions.append(entry)
        return {
            "app": self.app.name,
            "url": self.url,
            "functions": functions,
            "queues": self.queue.queues(),
        }

    # -- schedules ---------------------------------------------------------------------------

    def _schedule_loop(self) -> None:
        functions = self.app.functions_of("schedule")
        now = datetime.now(UTC)
        due: dict[str, datetime] = {}
        for f in functions:
            assert isinstance(f.trigger, ScheduleTrigger)
            due[f.name] = next_fire(f.trigger.schedule, now, origin=self.started_at)
        by_name = {f.name: f for f in functions}
        while not self._stop.is_set():
            earliest = min(due.values())
            wait = (earliest - datetime.now(UTC)).total_seconds()
            # Wake at least once a second, so a changed wall clock or a stop is seen promptly.
            if wait > 0 and self._stop.wait(min(wait, 1.0)):
                return
            now = datetime.now(UTC)
            for name, when in list(due.items()):
                if when > now:
                    continue
                function = by_name[name]
                self._pool.submit(self._fire, function, when, now - when > PAST_DUE_AFTER)
                trigger = function.trigger
                assert isinstance(trigger, ScheduleTrigger)
                # Ticks missed while the machine slept collapse into the one just fired.
                due[name] = next_fire(trigger.schedule, max(when, now), origin=self.started_at)

    def _fire(self, function: Function, when: datetime, past_due: bool) -> None:
        # A failed tick is logged with its traceback and not retried, as on every cloud.
        with contextlib.suppress(Exception):
            fire_timer(self.app, function, when, past_due=past_due)

    # -- storage -----------------------------------------------------------------------------

    def _watch_loop(self) -> None:
        assert self._watcher is not None
        while not self._stop.wait(self.poll_interval):
            for event in self._watcher.poll():
                self._pool.submit(self._storage, event)

    def _storage(self, event: StorageEvent) -> None:
        for function in self.app.storage_functions(event.bucket, event.kind, event.key):
            retries = function.settings.retries
            attempts = 1 + (retries if retries is not None else DEFAULT_STORAGE_RETRIES)
            for _ in range(attempts):
                try:
                    run_storage_function(self.app, function, event)
                except Exception:
                    continue  # logged with its traceback; retried like an async invocation
                break

    # -- queues ------------------------------------------------------------------------------

    def _queue_loop(self, function: Function) -> None:
        trigger = function.trigger
        assert isinstance(trigger, QueueTrigger)
        timeout = self.visibility_timeout or function.settings.timeout or DEFAULT_VISIBILITY_TIMEOUT
        limit = max_deliveries(function)
        dead = dead_letter_queue(function)
        while not self._stop.is_set():
            batch = self.queue.receive(
                trigger.queue, trigger.batch_size, timeout, fifo=trigger.fifo
            )
            if not batch:
                self._stop.wait(self.poll_interval)
                continue
            failed_groups: set[str | None] = set()
            for stored in batch:
                if self._stop.is_set() or (trigger.fifo and stored.group in failed_groups):
                    # Not handed to the handler: back on the queue, this delivery not counted.
                    self.queue.release(stored)
                    continue
                message = queue_message(
                    stored.id,
                    stored.body,
                    stored.queue,
                    attributes=stored.attributes,
                    delivery_count=stored.delivery_count,
                    enqueued=stored.enqueued,
                    group=stored.group,
                    raw={"receipt": stored.receipt},
                )
                try:
                    deliver_message(self.app, function, message)
                except Exception as exc:
                    failed_groups.add(stored.group)
                    outcome = self.queue.fail(
                        stored, max_deliveries=limit, dead_letter=dead, error=repr(exc)
                    )
                    if outcome == "dead-lettered":
                        self.log.warning(
                            "message dead-lettered",
                            extra={
                                "queue": trigger.queue,
                                "message_id": stored.id,
                                "dead_letter_queue": dead,
                                "deliveries": stored.delivery_count,
                            },
                        )
                else:
                    self.queue.ack(stored)
