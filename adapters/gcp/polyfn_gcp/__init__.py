"""polyfn on Google Cloud Run functions (Cloud Functions gen2), served by functions-framework.

In main.py::

    http = polyfn_gcp.http(app)            # functions-framework --target http
    event = polyfn_gcp.cloud_event(app)    # --target event --signature-type cloudevent

A functions-framework HTTP function (a Flask view) runs on any cloud through
``from_functions_framework(view)`` (docs/native-handlers.md).

Library use without `App` (docs/library.md): `http_request`, `http_response`, `queue_messages`,
`batch_response`, `storage_event` and `timer_event` read Flask requests and CloudEvents into the
neutral model inside a functions-framework function of your own (`_library`).

This module only re-exports; every name lives in a private module of its own. The tooling names
(build, deploy, sample events) load on first use, so a function's cold start never imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from polyfn._lazy import lazy_attributes as _lazy_attributes
from polyfn._provider import register
from polyfn_gcp._auth import DeliveryAuth
from polyfn_gcp._cloud_event import cloud_event
from polyfn_gcp._http import http, to_flask_response, to_request
from polyfn_gcp._library import (
    batch_response,
    http_request,
    http_response,
    queue_messages,
    storage_event,
    timer_event,
)
from polyfn_gcp._names import (
    QUEUE_PATH_PREFIX,
    SCHEDULE_ATTRIBUTE,
    SCHEDULE_PATH_PREFIX,
    queue_push_path,
    schedule_path,
    scheduler_job_name,
)
from polyfn_gcp._provider import provider
from polyfn_gcp._schedule import from_cloud_scheduler, to_cloud_scheduler

if TYPE_CHECKING:
    from polyfn_gcp._build import build
    from polyfn_gcp._deploy import deploy
    from polyfn_gcp._native import from_functions_framework
    from polyfn_gcp._samples import sample_event


# The runtime entry registers its provider: a deployed zip carries no entry-point metadata, and a
# resource handle finds its cloud's backend through it.
register(provider)

# Re-exports resolved on first access (PEP 562): name -> private module.
_LAZY = {
    "build": "polyfn_gcp._build",
    "deploy": "polyfn_gcp._deploy",
    "from_functions_framework": "polyfn_gcp._native",
    "sample_event": "polyfn_gcp._samples",
}


__getattr__ = _lazy_attributes("polyfn_gcp", _LAZY, globals())


# Plain sorted (tests/test_exported_members.py), where ruff's isort order would put the
# constants before the class.
__all__ = [  # noqa: RUF022
    "DeliveryAuth",
    "QUEUE_PATH_PREFIX",
    "SCHEDULE_ATTRIBUTE",
    "SCHEDULE_PATH_PREFIX",
    "batch_response",
    "build",
    "cloud_event",
    "deploy",
    "from_cloud_scheduler",
    "from_functions_framework",
    "http",
    "http_request",
    "http_response",
    "provider",
    "queue_messages",
    "queue_push_path",
    "sample_event",
    "schedule_path",
    "scheduler_job_name",
    "storage_event",
    "timer_event",
    "to_cloud_scheduler",
    "to_flask_response",
    "to_request",
]
