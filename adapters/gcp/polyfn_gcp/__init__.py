"""polyfn on Google Cloud Run functions (Cloud Functions gen2), served by functions-framework.

In main.py::

    http = polyfn_gcp.http(app)            # functions-framework --target http
    event = polyfn_gcp.cloud_event(app)    # --target event --signature-type cloudevent

This module only re-exports; every name lives in a private module of its own. The tooling names
(build, deploy, sample events) load on first use, so a function's cold start never imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._provider import register
from polyfn_gcp._auth import DeliveryAuth
from polyfn_gcp._cloud_event import cloud_event
from polyfn_gcp._http import http, to_flask_response, to_request
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
    from polyfn_gcp._samples import sample_event


# The runtime entry registers its provider: a deployed zip carries no entry-point metadata, and a
# resource handle finds its cloud's backend through it.
register(provider)

# Re-exports resolved on first access (PEP 562): name -> private module.
_LAZY = {
    "build": "polyfn_gcp._build",
    "deploy": "polyfn_gcp._deploy",
    "sample_event": "polyfn_gcp._samples",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'polyfn_gcp' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


# Plain sorted (tests/test_exported_members.py), where ruff's isort order would put the
# constants before the class.
__all__ = [  # noqa: RUF022
    "DeliveryAuth",
    "QUEUE_PATH_PREFIX",
    "SCHEDULE_ATTRIBUTE",
    "SCHEDULE_PATH_PREFIX",
    "build",
    "cloud_event",
    "deploy",
    "from_cloud_scheduler",
    "http",
    "provider",
    "queue_push_path",
    "sample_event",
    "schedule_path",
    "scheduler_job_name",
    "to_cloud_scheduler",
    "to_flask_response",
    "to_request",
]
