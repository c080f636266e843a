"""The Lambda context object (awslambdaric's `LambdaContext`) as a polyfn `Context`."""

from __future__ import annotations

from os import environ

from polyfn._context import Context
from polyfn._trace import parse_xray, xray_root

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import timedelta
    from typing import Any

    from polyfn._trace import Trace

# The Lambda runtime sets the X-Ray trace header of the current invocation in this variable.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
TRACE_ENV = "_X_AMZN_TRACE_ID"

# `AwsContext._trace_header` before the trace id is read (None is a value: no trace header).
_UNREAD = object()


class AwsContext(Context):
    """A `Context` read from the Lambda context object when a handler asks.

    ``remaining_time()`` asks the Lambda context for the time to its deadline at each call;
    ``trace_id`` is read from the environment (Lambda sets ``_X_AMZN_TRACE_ID`` for each
    invocation) on first use: most invocations never log, and pay for neither. The property
    keeps its value in ``_trace_header`` (the base class's own ``trace_id`` slot stays unused):
    plain attributes, no descriptor surgery; bench/fast_paths.py times the lazy read against an
    eager one.
    """

    __slots__ = ("_trace_header",)

    def __init__(self, function_name: str, invocation_id: str, raw: Any) -> None:
        super().__init__("aws", function_name, invocation_id, raw=raw)
        # After the base class set None through the setter: not read yet.
        self._trace_header: Any = _UNREAD

    @property
    def trace_id(self) -> str | None:
        if self._trace_header is _UNREAD:
            self._trace_header = environ.get(TRACE_ENV)
        value: str | None = self._trace_header
        return value

    @trace_id.setter
    def trace_id(self, value: str | None) -> None:
        self._trace_header = value

    def _xray_trace_id(self) -> str:
        # The Root of Lambda's header as it stands, while nothing asked for `trace` and no
        # traceparent came with the request or message: what `trace` would read, without
        # parsing the whole header or making a span id (every invocation's closing line asks).
        if self._trace is None and self._message_traceparent() is None:
            header = environ.get(TRACE_ENV)
            root = xray_root(header) if header is not None else None
            if root is not None:
                return root
        return self.trace.xray_trace_id

    def _platform_parent(self) -> Trace | None:
        # The X-Ray header Lambda sets for this invocation (a bad one starts a new trace).
        return parse_xray(environ.get(TRACE_ENV))

    def remaining_time(self) -> timedelta | None:
        get_millis = getattr(self.raw, "get_remaining_time_in_millis", None)
        millis = get_millis() if callable(get_millis) else None
        if not isinstance(millis, int | float):
            return None
        from datetime import timedelta

        return timedelta(milliseconds=millis)

    def with_function(self, function_name: str) -> Context:
        return AwsContext(function_name, self.invocation_id, self.raw)


def to_context(lambda_context: Any, function_name: str, fallback_id: str | None = None) -> Context:
    """A polyfn `Context` for one invocation.

    `function_name` is the polyfn function about to run where the dispatcher knows it (the
    Lambda's own name otherwise); `fallback_id` serves as invocation id when Lambda gave no
    context (a local call).
    """
    if lambda_context is None:
        return AwsContext(function_name, fallback_id or "local", None)
    request_id = getattr(lambda_context, "aws_request_id", None)
    return AwsContext(
        function_name or getattr(lambda_context, "function_name", None) or "",
        request_id if type(request_id) is str else (fallback_id or "local"),
        lambda_context,
    )
