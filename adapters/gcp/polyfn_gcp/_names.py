"""Names of the GCP resources and paths that carry a polyfn function's events.

The build helper creates resources under these names and the adapter's dispatch reads them back,
so both sides agree on one table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from polyfn import App, Function
    from polyfn._groups import HttpGroup

# Cloud Scheduler job IDs: "JOB_ID can contain only letters ([A-Za-z]), numbers ([0-9]), hyphens
# (-), or underscores (_). The maximum length is 500 characters."
# https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#Job
JOB_ID_MAX = 500
_JOB_ID_INVALID = re.compile(r"[^A-Za-z0-9_-]")

# Function IDs: lower-case letters, digits and hyphens, starting with a letter, at most 63.
# https://cloud.google.com/functions/docs/reference/rest/v2/projects.locations.functions#Function
FUNCTION_ID_MAX = 63

# Paths on the HTTP function (polyfn_gcp.http) that polyfn reserves for non-HTTP deliveries.
# A Cloud Scheduler HTTP target for schedule function F posts to SCHEDULE_PATH_PREFIX + F; a
# Pub/Sub push subscription for queue (topic) Q pushes to QUEUE_PATH_PREFIX + Q.
RESERVED_PREFIX = "/_polyfn/"
SCHEDULE_PATH_PREFIX = "/_polyfn/schedule/"
QUEUE_PATH_PREFIX = "/_polyfn/queue/"

# The Pub/Sub message attribute a Cloud Scheduler Pub/Sub target sets on its ticks, naming the
# schedule function; polyfn reads such a message as a TimerEvent, not a QueueMessage.
SCHEDULE_ATTRIBUTE = "polyfn-schedule"


def scheduler_job_name(app: App, fn: Function) -> str:
    """The Cloud Scheduler job ID that fires schedule function `fn` of `app`."""
    name = _JOB_ID_INVALID.sub("-", f"{app.name}-{fn.name}")
    return name[:JOB_ID_MAX]


def schedule_path(fn: Function) -> str:
    """The path on the HTTP function that a Cloud Scheduler HTTP job for `fn` targets."""
    return SCHEDULE_PATH_PREFIX + quote(fn.name, safe="")


def queue_push_path(queue: str) -> str:
    """The path on the HTTP function that a Pub/Sub push subscription for `queue` targets."""
    return QUEUE_PATH_PREFIX + quote(queue, safe="")


def function_id(app: App, fn: Function | HttpGroup, suffix: str = "") -> str:
    """The Cloud Functions ID of `fn` or of a group of HTTP functions (``<app>-http`` for the
    app's shared one), with a kind suffix for multi-kind storage functions."""
    raw = f"{app.name}-{fn.name}{'-' + suffix if suffix else ''}".lower()
    name = "".join(ch if ch.isalnum() and ch.isascii() else "-" for ch in raw).strip("-")
    if not name[:1].isalpha():
        name = f"fn-{name}"
    if len(name) > FUNCTION_ID_MAX:
        import hashlib

        name = f"{name[: FUNCTION_ID_MAX - 9]}-{hashlib.sha256(raw.encode()).hexdigest()[:8]}"
    return name


def entry_point(fn: Function | HttpGroup) -> str:
    """The attribute of main.py that serves `fn` (or a group of HTTP functions)."""
    return "polyfn_" + "".join(ch if ch.isalnum() else "_" for ch in fn.name)
