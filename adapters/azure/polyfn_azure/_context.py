"""The polyfn `Context` of an Azure invocation, from the worker's `azure.functions.Context`."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from polyfn import Context
from polyfn._trace import parse_traceparent

PROVIDER = "azure"


def trace_id(traceparent: Any) -> str | None:
    """The trace id of a W3C ``traceparent`` (``00-<trace id>-<span id>-<flags>``), which the
    worker exposes as ``context.trace_context.trace_parent``.
    https://learn.microsoft.com/azure/azure-functions/functions-reference-python#context"""
    if not isinstance(traceparent, str):
        return None
    parts = traceparent.strip().split("-")
    if len(parts) >= 3 and len(parts[1]) == 32:
        return parts[1]
    return None


def make_context(function_name: str, azure_context: Any) -> Context:
    """A Context for `function_name`; the Functions host gives no deadline, so remaining is None.

    Every field is read defensively: a context without an invocation id still gets one, so the
    log lines and 500 bodies of the invocation can be matched.
    """
    invocation_id = getattr(azure_context, "invocation_id", None)
    if not isinstance(invocation_id, str) or not invocation_id:
        invocation_id = str(uuid.uuid4())
    trace_context = getattr(azure_context, "trace_context", None)
    traceparent = getattr(trace_context, "trace_parent", None)
    ctx = Context(
        PROVIDER,
        function_name,
        invocation_id,
        trace_id=trace_id(traceparent),
        remaining=None,
        raw=azure_context,
    )
    # The host's W3C traceparent for this invocation, read when the trace is first asked for.
    ctx._trace_source = partial(parse_traceparent, traceparent)
    return ctx
