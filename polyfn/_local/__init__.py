"""The local runtime: a polyfn app on a laptop, with no cloud account.

HTTP functions on 127.0.0.1, schedules on their cron, storage buckets as folders, queues as a
durable SQLite queue. `polyfn serve` drives it; `polyfn.testing.Client` uses the same invocation
functions in process.

Names load lazily: the adapters import `polyfn._local._sample_args` for their sample events, and
that must not pull the HTTP server, SQLite and threads into a cloud function's cold start.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "FolderWatcher": "polyfn._local._storage",
    "InvocationTimeout": "polyfn._local._invoke",
    "LocalQueue": "polyfn._local._queue",
    "LocalRuntime": "polyfn._local._runtime",
    "StoredMessage": "polyfn._local._queue",
    "deliver_message": "polyfn._local._invoke",
    "fire_storage": "polyfn._local._invoke",
    "fire_timer": "polyfn._local._invoke",
    "handle_request": "polyfn._local._invoke",
    "load_app": "polyfn._local._loader",
    "local_context": "polyfn._local._invoke",
    "next_fire": "polyfn._local._cron",
    "run_storage_function": "polyfn._local._invoke",
}

__all__ = [
    "FolderWatcher",
    "InvocationTimeout",
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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
