"""The local runtime: a polyfn app on a laptop, with no cloud account.

HTTP functions on 127.0.0.1, schedules on their cron, storage buckets as folders, queues as a
durable SQLite queue. `polyfn serve` drives it; `polyfn.testing.Client` uses the same invocation
functions in process.
"""

from polyfn._local._cron import next_fire
from polyfn._local._invoke import (
    deliver_message,
    fire_storage,
    fire_timer,
    handle_request,
    local_context,
    run_storage_function,
)
from polyfn._local._loader import load_app
from polyfn._local._queue import LocalQueue, StoredMessage
from polyfn._local._runtime import LocalRuntime
from polyfn._local._storage import FolderWatcher

__all__ = [
    "FolderWatcher",
    "LocalQueue",
    "LocalRuntime",
    "StoredMessage",
    "deliver_message",
    "fire_storage",
    "fire_timer",
    "handle_request",
    "load_app",
    "local_context",
    "next_fire",
    "run_storage_function",
]
