"""What each invocation tells the cloud about itself: its log lines in the cloud's native shape,
its cold start, its closing line (duration and outcome) and its metrics flush.

`Context.log` writes through the ``polyfn`` logger; the record carries the invocation's fields
(`invocation_id`, `function_name`, `provider`, and the trace and cold start read lazily from the
`Context`), and one formatter writes the shape the record's provider reads natively:

- aws: Lambda's JSON log format (``timestamp``, ``level``, ``message``, ``logger``,
  ``requestId``), plus ``xray_trace_id`` and ``cold_start`` named as aws-lambda-powertools' Logger
  names them; an exception adds ``errorType``, ``errorMessage`` and ``stackTrace`` as the Lambda
  runtime writes them.
  https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html#monitoring-cloudwatchlogs-JSON
- gcp: Cloud Logging's special JSON fields (``severity``, ``message``,
  ``logging.googleapis.com/trace``, ``.../spanId``, ``.../trace_sampled``, ``.../labels``,
  ``httpRequest``); an exception's traceback is appended to ``message`` and written as
  ``stack_trace`` too, which Error Reporting reads.
  https://cloud.google.com/logging/docs/structured-logging#special-payload-fields
  https://cloud.google.com/error-reporting/docs/formatting-error-messages
- azure: not a line at all: the record goes to the ``polyfn_azure.invocations`` logger, which
  propagates to the root logger, where the Python worker forwards it to the host with the
  invocation id; the fields ride on the record as attributes and as ``custom_dimensions`` (see
  docs/observability.md).
- local: one plain JSON object a line, or human-readable text with
  ``polyfn serve --log-format text``.

This module needs neither `logging` nor `datetime`: an invocation that does not log writes its
closing line straight to stderr (the stream the ``polyfn`` logger's handler writes to), so an
HTTP cold start loads neither. `polyfn._logs` holds the `logging` side (formatters, adapters).
"""

from __future__ import annotations

import json
import sys
import time
from json.encoder import encode_basestring as _encode_string

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from polyfn._context import Context

    ExcInfo = tuple[type[BaseException], BaseException, Any] | None
    # (level, message, logger name, created, the user's fields, exc_info)
    Line = tuple[str, str, str, float, dict[str, Any], ExcInfo]
    Shape = Callable[[Line, Context | None], dict[str, Any]]

# The fields `Context.log` puts on every record; the shapes write them under their cloud's names.
INVOCATION_FIELDS = ("invocation_id", "function_name", "provider")

# Python's level names as Cloud Logging's LogSeverity names them.
# https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#logseverity
GCP_SEVERITY = {
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "CRITICAL": "CRITICAL",
}
# The project of `logging.googleapis.com/trace`: Cloud Run and Cloud Functions set one of these.
# https://cloud.google.com/functions/docs/configuring/env-var#runtime_environment_variables_set_automatically
GCP_PROJECT_ENV = ("GOOGLE_CLOUD_PROJECT", "GCP_PROJECT", "GCLOUD_PROJECT")


# -- serialising what the user passed ------------------------------------------------------------


def dumps(entry: dict[str, Any]) -> str:
    """`entry` as one JSON line. A value json cannot write (an object, a NaN, a cycle) is written
    as its repr: the line is never lost."""
    try:
        return json.dumps(entry, default=repr, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        safe: dict[str, Any] = {}
        for key, value in entry.items():
            try:
                json.dumps(value, default=repr, allow_nan=False)
                safe[str(key)] = value
            except (TypeError, ValueError, RecursionError):
                safe[str(key)] = repr(value)
        return json.dumps(safe, default=repr, ensure_ascii=False)


# The second whose RFC 3339 text `iso_time` last wrote, and that text: lines come many a second,
# and formatting a time costs more than the rest of a closing line.
_SECOND: list[Any] = [None, ""]


def iso_time(created: float) -> str:
    """RFC 3339 in UTC with milliseconds and a Z (Lambda's and Cloud Logging's form)."""
    second, millis = divmod(int(created * 1000), 1000)
    cached = _SECOND
    if cached[0] != second:
        cached[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        cached[0] = second
    return f"{cached[1]}.{millis:03d}Z"


def _frames(exc_info: ExcInfo) -> list[str]:
    import traceback

    assert exc_info is not None
    return [f.rstrip("\n") for f in traceback.format_list(traceback.extract_tb(exc_info[2]))]


def _traceback(exc_info: ExcInfo) -> str:
    import traceback

    assert exc_info is not None
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


# -- the shapes: (line, ctx) -> entry ------------------------------------------------------------
# A line is (level, message, logger name, created, the user's fields, exc_info).


def aws_entry(line: Line, ctx: Context | None) -> dict[str, Any]:
    level, message, logger, created, fields, exc_info = line
    entry: dict[str, Any] = {
        "timestamp": iso_time(created),
        "level": level,
        "message": message,
        "logger": logger,
    }
    if ctx is not None:
        entry["requestId"] = ctx.invocation_id
        entry["function_name"] = ctx.function_name
        entry["cold_start"] = ctx.cold_start
        entry["xray_trace_id"] = ctx._xray_trace_id()
    entry.update(fields)
    if exc_info is not None:
        # As the Lambda runtime writes an error: its type, message and frames (one string each).
        entry["errorType"] = exc_info[0].__name__
        entry["errorMessage"] = str(exc_info[1])
        entry["stackTrace"] = _frames(exc_info)
    return entry


def gcp_project() -> str | None:
    import os

    for name in GCP_PROJECT_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def gcp_entry(line: Line, ctx: Context | None) -> dict[str, Any]:
    level, message, logger, created, fields, exc_info = line
    entry: dict[str, Any] = {
        "severity": GCP_SEVERITY.get(level, "DEFAULT"),
        "message": message,
        "time": iso_time(created),
    }
    if ctx is not None:
        trace = ctx.trace
        project = gcp_project()
        entry["logging.googleapis.com/trace"] = (
            f"projects/{project}/traces/{trace.trace_id}" if project else trace.trace_id
        )
        entry["logging.googleapis.com/spanId"] = trace.span_id
        entry["logging.googleapis.com/trace_sampled"] = trace.sampled
        entry["logging.googleapis.com/labels"] = {
            "function_name": ctx.function_name,
            "execution_id": ctx.invocation_id,
        }
        entry["cold_start"] = ctx.cold_start
    entry["logger"] = logger
    entry.update(fields)
    if exc_info is not None:
        stack = _traceback(exc_info)
        # Error Reporting reads a stack trace from `message` or `stack_trace`.
        entry["message"] = f"{message}\n{stack}"
        entry["stack_trace"] = stack
        entry["error_type"] = exc_info[0].__name__
    return entry


def local_entry(line: Line, ctx: Context | None) -> dict[str, Any]:
    level, message, logger, created, fields, exc_info = line
    entry: dict[str, Any] = {
        "time": iso_time(created),
        "level": level,
        "logger": logger,
        "message": message,
    }
    if ctx is not None:
        entry["invocation_id"] = ctx.invocation_id
        entry["function_name"] = ctx.function_name
        entry["provider"] = ctx.provider
        trace = ctx.trace
        entry["trace_id"] = trace.trace_id
        entry["span_id"] = trace.span_id
        entry["cold_start"] = ctx.cold_start
    entry.update(fields)
    if exc_info is not None:
        entry["exception"] = _traceback(exc_info)
    return entry


SHAPES: dict[str | None, Shape] = {"aws": aws_entry, "gcp": gcp_entry}


# -- the closing line ---------------------------------------------------------------------------


def close(ctx: Context, started: float, tail: str, **fields: Any) -> None:
    """The one INFO line that ends an invocation (its duration and `fields`: status or
    outcome), after the invocation's metrics are flushed.

    `tail` is `fields` already written as JSON members (``"status": 200, ...``) on AWS, where
    every invocation pays for this line: the line is a template filled in, not a dict through
    `json.dumps` (`fields` serve the other routes). Written straight to the ``polyfn`` logger's
    stream while that logger is as polyfn set it up; through `ctx.log` when the app configured
    it (its handlers, filters and level then hold), or on Azure, whose worker reads records, not
    lines.
    """
    metrics = ctx._metrics
    if metrics is not None and metrics.pending:
        metrics.flush()
    duration = (time.perf_counter() - started) * 1000
    stream = direct_stream(INFO) if ctx.provider != "azure" else None
    if stream is None:
        ctx.log.info("invocation finished", extra={"duration_ms": round(duration, 3), **fields})
        return
    if stream is DROPPED:
        return
    now = time.time()
    if ctx.provider == "aws":
        line = aws_closing_line(ctx, now, duration, tail)
    else:
        shape = SHAPES.get(ctx.provider, local_entry)
        fields = {"duration_ms": round(duration, 3), **fields}
        entry = shape(("INFO", CLOSING_MESSAGE, "polyfn", now, fields, None), ctx)
        line = dumps(entry)
    write(stream, line)


CLOSING_MESSAGE = "invocation finished"
INFO = 20  # logging.INFO, without importing logging
# `direct_stream`'s answer when the level of the ``polyfn`` logger drops the line.
DROPPED: Any = object()


def direct_stream(level: int) -> Any:
    """Where a line of `level` goes without `logging`: stderr while nothing imported `logging`
    (then nobody configured it); else the stream of the ``polyfn`` logger's own handler while that
    logger is as polyfn set it up (`polyfn._logs.direct_stream`); None when the app configured
    it (the line then goes through `logging`); `DROPPED` when its level drops the line."""
    modules = sys.modules
    if "logging" not in modules:
        return sys.stderr
    logs: Any = modules.get("polyfn._logs")  # an import statement per line costs more than this
    if logs is None:
        import polyfn._logs as logs
    return logs.direct_stream(level)


def write(stream: Any, line: str) -> None:
    """One whole line in one write; flushed unless the stream is line-buffered (stderr is, from
    Python 3.9 on, interactive or not: its write is the line's flush)."""
    stream.write(line + "\n")
    if not getattr(stream, "line_buffering", False):
        stream.flush()


def aws_closing_line(ctx: Context, now: float, duration: float, tail: str) -> str:
    """`aws_entry` of the closing line, as a filled-in template (tests/observe check that both
    agree, key for key)."""
    return (
        f'{{"timestamp": "{iso_time(now)}", "level": "INFO", "message": "{CLOSING_MESSAGE}", '
        f'"logger": "polyfn", "requestId": {quote(ctx.invocation_id)}, '
        f'"function_name": {quote(ctx.function_name)}, '
        f'"cold_start": {"true" if ctx.cold_start else "false"}, '
        f'"xray_trace_id": "{ctx._xray_trace_id()}", "duration_ms": {duration:.3f}, {tail}}}'
    )


def quote(text: str) -> str:
    """`text` as a JSON string (json's own C encoder of strings, as `json.dumps` writes them with
    ensure_ascii off)."""
    if type(text) is not str:
        text = str(text)
    return _encode_string(text)


def close_http(ctx: Context, started: float, req: Any, resp: Any) -> None:
    """The closing line of an HTTP invocation: its status, method and path (on GCP as the
    `httpRequest` Cloud Logging reads, so the line shows as a request in the Logs Explorer)."""
    status = getattr(resp, "status", 500)
    if ctx.provider == "gcp":
        # https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#httprequest
        request: dict[str, Any] = {
            "requestMethod": req.method,
            "requestUrl": req.path,
            "status": status,
            "latency": f"{time.perf_counter() - started:.6f}s",
        }
        agent = req.headers.get("user-agent")
        if agent:
            request["userAgent"] = agent
        if req.source_ip:
            request["remoteIp"] = req.source_ip
        close(ctx, started, "", status=status, httpRequest=request)
    else:
        method, path = req.method, req.path
        tail = (
            f'"status": {status}, "method": {quote(method)}, "path": {quote(path)}'
            if ctx.provider == "aws"
            else ""
        )
        close(ctx, started, tail, status=status, method=method, path=path)


# What became of an event: a queue message is acknowledged, or failed (the cloud redelivers it
# until the function's retries are spent, then dead-letters it).
QUEUE_OUTCOMES = ("acknowledged", "failed")
EVENT_OUTCOMES = ("succeeded", "failed")


def close_event(ctx: Context, started: float, kind: str, failed: bool) -> None:
    outcome = (QUEUE_OUTCOMES if kind == "queue" else EVENT_OUTCOMES)[failed]
    tail = f'"trigger": "{kind}", "outcome": "{outcome}"' if ctx.provider == "aws" else ""
    close(ctx, started, tail, trigger=kind, outcome=outcome)


def close_batch(ctx: Context, started: float, acknowledged: int, failed: int) -> None:
    """The closing line of one invocation that ran a batch of queue messages (a Lambda SQS
    batch): how many were acknowledged and how many failed (the queue redelivers those).
    It carries the trace of the batch's last message (`ctx` still handles it): a batch of one
    request's messages shows that request's trace on every line; each message's own lines carry
    the message's trace."""
    tail = f'"trigger": "queue", "acknowledged": {acknowledged}, "failed": {failed}'
    close(ctx, started, tail, trigger="queue", acknowledged=acknowledged, failed=failed)


def write_line(line: str) -> None:
    """One line to stdout, where Lambda and Cloud Run collect a process's logs and metrics."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
