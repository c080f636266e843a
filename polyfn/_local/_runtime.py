"""`LocalRuntime`: every trigger of one app, served on this machine.

HTTP on `host:port`; schedules fired on their cron or rate (and on demand through
``POST /_polyfn/tick/<function>``); storage buckets as folders under `storage_dir`; queues in the
SQLite file ``<state_dir>/queues.db``. One thread each for the HTTP server, the scheduler, the
folder watcher and each queue function; `stop()` lets running handlers finish and returns.

One runtime per state directory: `start()` takes its lock (`StateDirLock`) and holds it until
`stop()`. Every handler runs within its function's timeout (`_invoke.within_timeout`). No
background thread dies in silence: a queue consumer retries a locked database with backoff and
logs any other failure and carries on; what cannot go on (a corrupt queue file, a loop that
crashed) is logged, stops the runtime, and is kept in `fatal` for `polyfn serve` to report.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from polyfn._app import (
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    SubscribeTrigger,
    assert_never,
)
from polyfn._errors import PolyfnError
from polyfn._http import HttpResponse
from polyfn._local._cron import next_fire
from polyfn._local._http_server import CONTROL_PREFIX, HttpLimits, LocalHttpServer
from polyfn._local._invoke import (
    deliver_message,
    fire_timer,
    handle_request,
    local_logger,
    run_storage_function,
    stored_queue_message,
)
from polyfn._local._queue import (
    BUSY_TIMEOUT,
    DEAD_LETTER_SUFFIX,
    LocalQueue,
    QueueBusyError,
    QueueCorruptError,
    QueueDatabaseError,
)
from polyfn._local._resources import LocalState, bind_state, subscription_queue
from polyfn._local._statelock import StateDirLock
from polyfn._local._storage import FolderWatcher

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from polyfn._app import App, Function
    from polyfn._events import StorageEvent
    from polyfn._http import HttpRequest
    from polyfn._local._queue import StoredMessage

# The clouds' defaults where a function declares no setting:
# Azure Storage queues dead-letter after maxDequeueCount = 5 deliveries
# (https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json);
# Lambda retries a failed asynchronous (S3) invocation twice
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
DEFAULT_MAX_DELIVERIES = 5
DEFAULT_STORAGE_RETRIES = 2
# Local retries back off exponentially: retry n waits RETRY_DELAY * 2 ** (n - 1) seconds, at most
# MAX_RETRY_DELAY (1, 2, 4, 8, 16, 32, 60, 60, ... s). `polyfn serve --retry-delay` sets the first.
DEFAULT_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0
# The longest a consumer waits before trying a locked or failing queue database again.
MAX_CONSUMER_PAUSE = 5.0
# A tick that starts this late after its time is reported past due, like Azure's IsPastDue.
PAST_DUE_AFTER = timedelta(seconds=15)


def max_deliveries(function: Function) -> int:
    """How many deliveries a message gets: `retries` + 1 when declared, else the default."""
    retries = function.settings.retries
    return retries + 1 if retries is not None else DEFAULT_MAX_DELIVERIES


class Consumed(NamedTuple):
    """What a queue function or a topic subscriber reads from the local queue file."""

    queue: str  # the local queue: the queue itself, or the subscription queue ``T~F``
    batch_size: int
    fifo: bool
    name: str  # what `QueueMessage.queue` says: the queue's or the topic's name


def consumers(app: App) -> list[Function]:
    """The functions that consume a local queue: queue functions and topic subscribers."""
    return [f for f in app.functions if isinstance(f.trigger, QueueTrigger | SubscribeTrigger)]


def consumed(function: Function) -> Consumed:
    """The local queue `function` consumes. A subscriber of topic T reads its own subscription
    queue ``T~F``, on which the topic twin puts a copy of each message published to T."""
    trigger = function.trigger
    if isinstance(trigger, QueueTrigger):
        return Consumed(trigger.queue, trigger.batch_size, trigger.fifo, trigger.queue)
    assert isinstance(trigger, SubscribeTrigger)
    queue = subscription_queue(trigger.topic, function.name)
    return Consumed(queue, trigger.batch_size, False, trigger.topic)


def subscribe_all(app: App, state: LocalState) -> None:
    """Register every subscriber's queue with its topic in `state`, so a publish reaches it."""
    for function in consumers(app):
        trigger = function.trigger
        if isinstance(trigger, SubscribeTrigger):
            state.subscribe(trigger.topic, subscription_queue(trigger.topic, function.name))


def dead_letter_queue(function: Function) -> str:
    return function.settings.dead_letter or consumed(function).queue + DEAD_LETTER_SUFFIX


def retry_delay(retry: int, first: float = DEFAULT_RETRY_DELAY) -> float:
    """Seconds to wait before retry number `retry` (1 for the first retry)."""
    return min(first * 2.0 ** max(retry - 1, 0), MAX_RETRY_DELAY)


def queue_roles(app: App) -> dict[str, str]:
    """Every queue `app` uses: name -> what it is to the app ("consumed by on_order", "dead
    letters of orders"). The queues `polyfn send` accepts."""
    reads: dict[str, str] = {}
    dead_letters: dict[str, str] = {}
    for function in consumers(app):
        queue = consumed(function).queue
        if isinstance(function.trigger, SubscribeTrigger):
            reads[queue] = (
                f"consumed by {function.name} (its subscription to topic {function.trigger.topic})"
            )
        else:
            reads[queue] = f"consumed by {function.name}"
        dead_letters.setdefault(dead_letter_queue(function), f"dead letters of {queue}")
    return {**dead_letters, **reads}  # a dead-letter queue a function reads is consumed


class RuntimeFailure(PolyfnError):  # noqa: N818 - reads as what stopped the runtime
    """A background loop of the runtime hit something it cannot go on after."""


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
        http_limits: HttpLimits | None = None,
        allow_hosts: Sequence[str] = (),
        retry_delay: float = DEFAULT_RETRY_DELAY,
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.state_dir = state_dir
        self.storage_dir = storage_dir or state_dir / "storage"
        self.poll_interval = poll_interval
        self.visibility_timeout = visibility_timeout
        self.run_schedules = run_schedules
        self.http_limits = http_limits
        self.allow_hosts = tuple(allow_hosts)
        self.retry_delay = retry_delay
        self.lock = StateDirLock(state_dir)
        self.queue = LocalQueue(state_dir / "queues.db", busy_timeout=busy_timeout)
        # What stopped the runtime from inside (a corrupt queue file, a crashed loop), if anything.
        self.fatal: PolyfnError | None = None
        # The app's handles use the twins in these folders: a bucket write lands where the
        # watcher looks, a send in the queue file the consumers read.
        self.state = LocalState(state_dir, self.storage_dir)
        bind_state(app, self.state)
        self.started_at = datetime.now(UTC)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="polyfn-local")
        self._server: LocalHttpServer | None = None
        self._watcher: FolderWatcher | None = None
        # JSON lines from the first one: a warning before any invocation must not be plain text.
        self.log = local_logger()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Take the state directory's lock, bind the port and start every trigger's thread;
        returns at once. `StateDirInUseError` if another runtime holds the folder."""
        self.lock.acquire()
        try:
            self._server = LocalHttpServer(
                (self.host, self.port),
                self._http,
                self._control,
                self.http_limits,
                self.allow_hosts,
            )
        except BaseException:
            self.lock.release()
            raise
        self.port = self._server.server_address[1]
        self._spawn("http", self._server.serve_forever, 0.2)
        self.queue.register(self.app.name, queue_roles(self.app))
        subscribe_all(self.app, self.state)
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
        for function in consumers(self.app):
            self._spawn(f"queue-{function.name}", self._queue_loop, function)

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(
            target=self._guarded, args=(name, target, *args), name=f"polyfn-{name}", daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def _guarded(self, name: str, target: Callable[..., None], *args: Any) -> None:
        """Run a loop; if it raises, the runtime cannot do its job: log why and stop."""
        try:
            target(*args)
        except PolyfnError as exc:
            self._fail(exc)
        except Exception as exc:
            self.log.exception("the runtime's %s loop crashed", name)
            self._fail(
                RuntimeFailure(
                    f"the local runtime's {name} loop crashed ({exc!r}); the traceback is in "
                    "the log above. Please report it."
                )
            )

    def _fail(self, error: PolyfnError) -> None:
        if self.fatal is None:
            self.fatal = error
        self.log.critical("the local runtime is stopping: %s", error)
        self.request_stop()

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
        self.lock.release()

    # -- HTTP --------------------------------------------------------------------------------

    def _http(self, req: HttpRequest) -> HttpResponse:
        return handle_request(self.app, req, bounded=True)

    def _control(self, req: HttpRequest) -> HttpResponse:
        """``GET /_polyfn`` describes the app; ``POST /_polyfn/tick/<fn>`` fires a schedule;
        ``POST /_polyfn/send/<queue>`` enqueues the body (query parameters become attributes)."""
        parts = [p for p in req.path[len(CONTROL_PREFIX) :].split("/") if p]
        try:
            if not parts and req.method == "GET":
                return HttpResponse.json(self.describe())
            if len(parts) == 2 and parts[0] == "tick" and req.method == "POST":
                return self._tick(parts[1])
            if len(parts) == 2 and parts[0] == "send" and req.method == "POST":
                return self._send(parts[1], req)
        except QueueDatabaseError:
            busy = HttpResponse.json({"error": "the local queue database is unavailable"}, 503)
            busy.headers.set("Retry-After", "1")
            return busy
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

    def _send(self, queue: str, req: HttpRequest) -> HttpResponse:
        known = self.known_queues()
        if queue not in known:
            # A typo would otherwise make a queue nobody reads, and the message would wait there.
            return HttpResponse.json({"error": f"no queue {queue!r}", "queues": known}, 404)
        attributes = dict(req.query.multi_items())
        group = attributes.pop("group", None)
        message_id = self.queue.send(queue, req.body, attributes=attributes, group=group)
        return HttpResponse.json({"id": message_id, "queue": queue}, 202)

    def known_queues(self) -> dict[str, str]:
        """The queues a message may be sent to: the app's, and any that holds messages."""
        return known_queues(queue_roles(self.app), self.queue.queues())

    def _tick(self, name: str) -> HttpResponse:
        function = next((f for f in self.app.functions if f.name == name), None)
        if function is None or not isinstance(function.trigger, ScheduleTrigger):
            names = [f.name for f in self.app.functions_of("schedule")]
            return HttpResponse.json(
                {"error": f"no schedule function {name!r}", "schedules": names}, 404
            )
        try:
            fire_timer(self.app, function, bounded=True)
        except Exception:
            # The exception is in the invocation's log line (stderr); an HTTP client
            # (any page that can reach the port) gets no detail of it.
            return HttpResponse.json(
                {
                    "function": name,
                    "outcome": "error",
                    "error": "the schedule function raised; the error is in serve's log",
                },
                500,
            )
        return HttpResponse.json({"function": name, "outcome": "ok"})

    def describe(self) -> dict[str, Any]:
        """The app as served: ``GET /_polyfn`` answers it."""
        return {
            "app": self.app.name,
            "url": self.url,
            "functions": [self._serving(f)[0] for f in self.app.functions],
            "queues": self.queue.queues(),
        }

    def banner(self) -> str:
        """What `polyfn serve` prints once started: where each function is served."""
        lines = [f"polyfn: serving {self.app.name} on {self.url} (state in {self.state_dir})"]
        lines.extend(f"  {f.name}: {self._serving(f)[1]}" for f in self.app.functions)
        return "\n".join(lines)

    def _serving(self, f: Function) -> tuple[dict[str, Any], str]:
        """How `f` is served here: its `describe()` entry and its line in the `banner()`."""
        entry: dict[str, Any] = {"name": f.name, "trigger": f.trigger_label}
        match f.trigger:
            case HttpTrigger() as t:
                entry["methods"] = list(t.methods)
                entry["path"] = t.path
                line = f"{'|'.join(t.methods)} {self.url}{t.path}"
            case ScheduleTrigger() as t:
                entry["schedule"] = str(t.schedule)
                entry["next"] = next_fire(
                    t.schedule, datetime.now(UTC), origin=self.started_at
                ).isoformat()
                line = f"schedule {entry['schedule']}, next {entry['next']}"
            case StorageTrigger() as t:
                entry["folder"] = str((self.storage_dir / t.bucket).resolve())
                line = f"folder {entry['folder']}"
            case QueueTrigger() as t:
                entry["queue"] = t.queue
                entry["dead_letter"] = dead_letter_queue(f)
                entry["max_deliveries"] = max_deliveries(f)
                line = f"queue {t.queue} (dead letters: {entry['dead_letter']})"
            case SubscribeTrigger() as t:
                entry["topic"] = t.topic
                entry["queue"] = consumed(f).queue
                entry["dead_letter"] = dead_letter_queue(f)
                entry["max_deliveries"] = max_deliveries(f)
                line = (
                    f"topic {t.topic} via {entry['queue']} (dead letters: {entry['dead_letter']})"
                )
            case _:
                assert_never(f.trigger)
        return entry, line

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
            fire_timer(self.app, function, when, past_due=past_due, bounded=True)

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
            for attempt in range(1, attempts + 1):
                try:
                    run_storage_function(self.app, function, event, bounded=True)
                except Exception:
                    # Logged with its traceback; retried like an asynchronous invocation.
                    if attempt < attempts and self._stop.wait(
                        retry_delay(attempt, self.retry_delay)
                    ):
                        self.log.warning(
                            "storage event dropped: the runtime stopped before its retry",
                            extra={"function": function.name, "key": event.key},
                        )
                        break
                    continue
                break

    # -- queues ------------------------------------------------------------------------------

    def _queue_loop(self, function: Function) -> None:
        """Consume `function`'s queue until stopped. A database locked past the busy timeout, or
        any other failure but a corrupt file, is logged and retried with growing pauses: this
        loop only ends when the runtime stops (or, for a corrupt file, stops the runtime)."""
        queue = consumed(function).queue
        pause = 0.0
        while not self._stop.is_set():
            try:
                handled = self._consume(function)
            except QueueCorruptError:
                raise  # _guarded stops the runtime with it
            except QueueBusyError as exc:
                if not pause:
                    self._locked(queue, exc)
                pause = min(max(pause * 2, self.poll_interval), MAX_CONSUMER_PAUSE)
                self._stop.wait(pause)
                continue
            except Exception:
                self.log.exception(
                    "queue consumer failed; retrying", extra={"function": function.name}
                )
                pause = min(max(pause * 2, self.poll_interval), MAX_CONSUMER_PAUSE)
                self._stop.wait(pause)
                continue
            if pause:
                self._unlocked(queue)
                pause = 0.0
            if not handled:
                self._stop.wait(self.poll_interval)

    def _locked(self, queue: str, exc: Exception) -> None:
        self.log.warning(
            "queue database locked; retrying until it is free",
            extra={"queue": queue, "error": str(exc)},
        )

    def _unlocked(self, queue: str) -> None:
        self.log.info("queue consumer running again", extra={"queue": queue})

    def _consume(self, function: Function) -> bool:
        """Receive one batch and run each message; False when the queue had none."""
        reads = consumed(function)
        # Hidden for as long as its handler may run: redelivered only once it timed out.
        timeout = self.visibility_timeout or function.settings.effective_timeout
        limit = max_deliveries(function)
        dead = dead_letter_queue(function)
        batch = self.queue.receive(reads.queue, reads.batch_size, timeout, fifo=reads.fifo)
        if not batch:
            return False
        failed_groups: set[str | None] = set()
        for stored in batch:
            if self._stop.is_set() or (reads.fifo and stored.group in failed_groups):
                # Not handed to the handler: back on the queue, this delivery not counted.
                self._settle(stored, partial(self.queue.release, stored))
                continue
            message = stored_queue_message(stored, reads.name)
            try:
                deliver_message(self.app, function, message, bounded=True)
            except Exception as exc:
                # A raise or a timeout: failed, never acknowledged (a timed-out handler still
                # running cannot reach the queue; only this loop settles messages).
                failed_groups.add(stored.group)
                fail = partial(
                    self.queue.fail,
                    stored,
                    max_deliveries=limit,
                    dead_letter=dead,
                    error=repr(exc),
                    retry_delay=retry_delay(stored.delivery_count, self.retry_delay),
                )
                outcome = self._settle(stored, fail)
                if outcome == "dead-lettered":
                    self.log.warning(
                        "message dead-lettered",
                        extra={
                            "queue": reads.queue,
                            "message_id": stored.id,
                            "dead_letter_queue": dead,
                            "deliveries": stored.delivery_count,
                        },
                    )
            else:
                if self._settle(stored, partial(self.queue.ack, stored)) is False:
                    self.log.warning(
                        "message handled after its visibility timeout ended; it was "
                        "redelivered, so it may be handled twice",
                        extra={"queue": reads.queue, "message_id": stored.id},
                    )
        return True

    def _settle(self, stored: StoredMessage, operation: Callable[[], Any]) -> Any:
        """Run an ack, fail or release, retrying while the database is locked: a handled
        message must not come back only because the lock was held when it finished. Gives up
        (None) only when the runtime stops; the message, still in flight, then comes back at
        the next start."""
        pause = 0.0
        while True:
            try:
                outcome = operation()
            except QueueBusyError as exc:
                if not pause:
                    self._locked(stored.queue, exc)
                pause = min(max(pause * 2, self.poll_interval), MAX_CONSUMER_PAUSE)
                if self._stop.wait(pause):
                    self.log.warning(
                        "runtime stopped before a message could be settled; it will be "
                        "delivered again",
                        extra={"queue": stored.queue, "message_id": stored.id},
                    )
                    return None
                continue
            if pause:
                self._unlocked(stored.queue)
            return outcome


def known_queues(roles: dict[str, str], held: dict[str, int]) -> dict[str, str]:
    """The app's queues (`roles`) and every queue holding messages: name -> description."""
    known = dict(roles)
    for name, count in held.items():
        known.setdefault(name, f"holds {count} message{'s' if count != 1 else ''}")
    return dict(sorted(known.items()))
