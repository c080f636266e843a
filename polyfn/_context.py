"""The invocation `Context` and its JSON-lines logger."""

from __future__ import annotations

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable
    from datetime import timedelta
    from typing import Any

    from polyfn._metrics import Metrics
    from polyfn._trace import Trace

# The message attribute (and HTTP header) that carries W3C trace context across polyfn's sends.
TRACEPARENT = "traceparent"

_LOGGER_NAME = "polyfn"

# Whether this process has served no invocation yet (its next one is its cold start).
_COLD = [True]


def begin_invocation(ctx: Context, source: Any = None) -> None:
    """Start an invocation of `ctx` that handles `source` (a message whose `traceparent`
    attribute, or a request whose `traceparent` header, continues a trace; its trace is read
    afresh, since an adapter may hand the records of one batch the same Context). The first
    invocation of the process is its cold start."""
    if _COLD[0]:
        _COLD[0] = False
        ctx.cold_start = True
    ctx._message = source
    ctx._trace = None


def _ensure_logging() -> logging.Logger:
    """The ``polyfn`` logger with its JSON-lines handler (see `polyfn._observe.ensure_logging`)."""
    from polyfn._logs import ensure_logging

    return ensure_logging()


def JsonFormatter() -> logging.Formatter:  # noqa: N802 - reads as a class at call sites
    """A `logging.Formatter` that writes one JSON object per record, in the shape of the record's
    provider (Lambda's JSON log format, Cloud Logging's fields, plain JSON locally)."""
    from polyfn._logs import JsonFormatter as Formatter

    return Formatter()


class Context:
    """What every handler gets beside its event: who called, when it must finish, how to log."""

    __slots__ = (
        "_log",
        "_message",
        "_metrics",
        "_remaining",
        "_runtime_closes",
        "_trace",
        "_trace_source",
        "cold_start",
        "function_name",
        "invocation_id",
        "provider",
        "raw",
        "trace_id",
    )

    def __init__(
        self,
        provider: str,
        function_name: str,
        invocation_id: str,
        *,
        trace_id: str | None = None,
        remaining: Callable[[], timedelta | None] | None = None,
        raw: Any = None,
    ) -> None:
        self.provider = provider
        self.function_name = function_name
        self.invocation_id = invocation_id
        self.trace_id = trace_id
        self._remaining = remaining
        self.raw = raw
        self._log: logging.LoggerAdapter[logging.Logger] | None = None
        self._trace: Trace | None = None
        # What the caller's span is read from, when first asked: a callable the adapter gives
        # (its cloud's header or variable), and the message being handled (its `traceparent`
        # attribute, which polyfn's own sends write, comes first).
        self._trace_source: Callable[[], Trace | None] | None = None
        self._message: Any = None
        self._metrics: Metrics | None = None
        self.cold_start = False
        # Set by a runtime that writes each invocation's closing line itself (`polyfn serve`).
        self._runtime_closes = False

    def remaining_time(self) -> timedelta | None:
        """Time left before the cloud stops this invocation; None where there is no deadline."""
        return self._remaining() if self._remaining is not None else None

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger whose lines carry this invocation's id, function, trace and cold start, in
        the shape the cloud's log tooling reads (docs/observability.md)."""
        from polyfn._logs import invocation_logger, logger_for

        logger = logger_for(self.provider)  # checked on every use (see `ensure_logging`)
        if self._log is None:
            self._log = invocation_logger(self, logger)
        return self._log

    @property
    def trace(self) -> Trace:
        """This invocation's span in W3C terms (`trace_id`, `span_id`, `sampled`,
        `traceparent()`), continuing the caller's trace where one arrived; made on first use."""
        trace = self._trace
        if trace is None:
            from polyfn._trace import Trace, parse_traceparent

            parent = parse_traceparent(self._message_traceparent())
            if parent is None:
                try:
                    parent = self._platform_parent()
                except Exception:
                    parent = None
            trace = self._trace = Trace.continue_from(parent)
        return trace

    def _message_traceparent(self) -> Any:
        """The ``traceparent`` the handled message (attribute) or request (header) carries."""
        message = self._message
        if message is None:
            return None
        attributes = getattr(message, "attributes", None)
        if isinstance(attributes, dict):
            return attributes.get(TRACEPARENT)
        header = getattr(message, "header", None)  # an HttpRequest
        return header(TRACEPARENT) if header is not None else None

    def _xray_trace_id(self) -> str:
        """The trace id as X-Ray writes it, for the lines of AWS's shape (an adapter that can
        read it more cheaply overrides this)."""
        return self.trace.xray_trace_id

    def _platform_parent(self) -> Trace | None:
        """The caller's span as the cloud gave it (an adapter sets `_trace_source`, or overrides
        this)."""
        source = self._trace_source
        return source() if source is not None else None

    @property
    def metrics(self) -> Metrics:
        """Counts, gauges and timings of this invocation, flushed when it ends in the cloud's
        native form (CloudWatch EMF on AWS; docs/observability.md)."""
        metrics = self._metrics
        if metrics is None:
            from polyfn._metrics import Metrics

            metrics = self._metrics = Metrics(self)
        return metrics

    def with_function(self, function_name: str) -> Context:
        """A copy naming another function (one Lambda serving several polyfn functions)."""
        copy = Context(
            self.provider,
            function_name,
            self.invocation_id,
            trace_id=self.trace_id,
            remaining=self._remaining,
            raw=self.raw,
        )
        copy._trace_source = self._trace_source
        return copy

    def __repr__(self) -> str:
        return (
            f"Context(provider={self.provider!r}, function_name={self.function_name!r}, "
            f"invocation_id={self.invocation_id!r})"
        )
