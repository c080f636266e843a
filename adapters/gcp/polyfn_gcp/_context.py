"""The `Context` of a GCP invocation: ids from the request, the deadline from the environment."""

from __future__ import annotations

import os
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from polyfn import Context
from polyfn._trace import from_headers

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import timedelta

PROVIDER = "gcp"

# Cloud Run sets the request timeout here; functions-framework reads it to time requests out
# (functions-framework-python _http/gunicorn.py; functions-framework-go#244 "the request timeout
# (signaled by CLOUD_RUN_TIMEOUT_SECONDS)"). Unset or 0 means no deadline is known.
TIMEOUT_ENV = "CLOUD_RUN_TIMEOUT_SECONDS"

# functions-framework puts an execution id on every request (execution_id.WsgiMiddleware), taking
# the platform's when it sent one. https://cloud.google.com/functions/docs/monitoring/logging
EXECUTION_ID_HEADER = "Function-Execution-Id"
# "X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS" and W3C "traceparent: 00-TRACE-SPAN-FLAGS".
# https://cloud.google.com/trace/docs/trace-context
TRACE_HEADER = "X-Cloud-Trace-Context"
TRACEPARENT_HEADER = "traceparent"


def trace_id(x_cloud_trace: str | None, traceparent: str | None) -> str | None:
    """The trace id from X-Cloud-Trace-Context or a W3C traceparent, whichever is present."""
    if isinstance(x_cloud_trace, str) and x_cloud_trace:
        head = x_cloud_trace.split("/", 1)[0].split(";", 1)[0].strip()
        if head:
            return head
    if isinstance(traceparent, str) and traceparent:
        parts = traceparent.strip().split("-")
        if len(parts) >= 3 and parts[1]:
            return parts[1]
    return None


def deadline(
    started: float, environ: Mapping[str, str] = os.environ
) -> Callable[[], timedelta] | None:
    """A `remaining` callable for Context, counting down from `started` (time.monotonic())."""
    raw = environ.get(TIMEOUT_ENV, "")
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if seconds <= 0:
        return None
    end = started + seconds

    def remaining() -> timedelta:
        from datetime import timedelta

        return timedelta(seconds=max(0.0, end - time.monotonic()))

    return remaining


def default_function_name(app_name: str) -> str:
    """Cloud Run names the service in K_SERVICE; the app's name stands in elsewhere."""
    return os.environ.get("K_SERVICE") or app_name


def make_context(
    function_name: str,
    invocation_id: str,
    *,
    trace: str | None,
    started: float,
    raw: Any,
    trace_headers: Mapping[str, Any] | None = None,
) -> Context:
    """`trace_headers` holds the request's `traceparent` and `X-Cloud-Trace-Context` (or a
    CloudEvent's traceparent extension), read when the trace is first asked for."""
    ctx = Context(
        PROVIDER,
        function_name,
        invocation_id,
        trace_id=trace,
        remaining=deadline(started),
        raw=raw,
    )
    if trace_headers is not None:
        ctx._trace_source = partial(
            from_headers,
            traceparent=trace_headers.get(TRACEPARENT_HEADER),
            cloud_trace=trace_headers.get(TRACE_HEADER),
        )
    return ctx
