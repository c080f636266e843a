"""The Lambda context object (awslambdaric's `LambdaContext`) as a polyfn `Context`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from polyfn._context import Context

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta

# The Lambda runtime sets the X-Ray trace header of the current invocation in this variable.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
TRACE_ENV = "_X_AMZN_TRACE_ID"


def _remaining(get_millis: Callable[[], Any]) -> Callable[[], timedelta | None]:
    def remaining() -> timedelta | None:
        from datetime import timedelta

        millis = get_millis()
        return timedelta(milliseconds=millis) if isinstance(millis, int | float) else None

    return remaining


def to_context(lambda_context: Any, function_name: str, fallback_id: str | None = None) -> Context:
    """A polyfn `Context` for one invocation.

    `function_name` is the polyfn function about to run where the dispatcher knows it (the
    Lambda's own name otherwise); `fallback_id` serves as invocation id when Lambda gave no
    context (a local call).
    """
    request_id = getattr(lambda_context, "aws_request_id", None)
    get_millis = getattr(lambda_context, "get_remaining_time_in_millis", None)
    return Context(
        "aws",
        function_name or getattr(lambda_context, "function_name", None) or "",
        request_id if isinstance(request_id, str) else (fallback_id or "local"),
        trace_id=os.environ.get(TRACE_ENV),
        remaining=_remaining(get_millis) if callable(get_millis) else None,
        raw=lambda_context,
    )
