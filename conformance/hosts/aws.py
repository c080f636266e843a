"""The AWS Lambda runtime around one invocation: the context awslambdaric builds, the variables
the runtime sets, the JSON the event and the result travel as, and the error payload of a failed
invocation. Used by the conformance drivers (targets/aws_*), ``polyfn invoke --provider aws``,
the tests and the benchmarks.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any

from conformance.hosts import environment

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from polyfn import App

ACCOUNT = "123456789012"
REGION = "us-east-1"


def function_arn(function: str, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function}"


def lambda_context(
    request_id: str | None = None,
    remaining_ms: int = 30_000,
    *,
    function: str = "conformance",
    region: str = REGION,
) -> Any:
    """The context awslambdaric hands a Python handler (`remaining_ms` left, a new request id
    unless given)."""
    from awslambdaric.lambda_context import LambdaContext

    context = LambdaContext(
        request_id or str(uuid.uuid4()),
        None,
        None,
        int(time.time() * 1000) + remaining_ms,
        function_arn(function, region),
    )
    # awslambdaric reads the name from AWS_LAMBDA_FUNCTION_NAME, which the runtime sets to the
    # function the ARN names.
    context.function_name = function
    return context


@contextlib.contextmanager
def runtime_environment(function: str, memory: int | None) -> Iterator[None]:
    """The variables the runtime sets before it builds the context, for one call only (code
    after it in the same process must not think it runs on Lambda); variables already set win.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    """
    runtime_env = {
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory or 128),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": REGION,
    }
    with environment({k: v for k, v in runtime_env.items() if k not in os.environ}):
        yield


def through_json(value: Any) -> Any:
    """`value` as the runtime passes it: serialised and parsed again."""
    return json.loads(json.dumps(value))


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """What Lambda reports for an invocation whose handler raised:
    https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html"""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def invoke(
    app: App,
    function: str,
    event: dict[str, Any],
    *,
    passes: Callable[[BaseException], bool] = lambda exc: False,
) -> tuple[Any, bool]:
    """Run `event` through ``polyfn_aws.handler(app, function=...)`` as the runtime does for the
    Lambda that `polyfn build` makes of `function` (its name, memory and timeout); returns (what
    the Lambda returns, True) or, when the handler raises, Lambda's error payload and False.
    An exception for which `passes` is true propagates instead (``polyfn invoke`` lets polyfn's
    own errors out: an event the adapter cannot read is no failed invocation)."""
    import polyfn_aws

    fn = app.function(function)
    lambda_name = f"{app.name}-{function}"
    with runtime_environment(lambda_name, fn.settings.memory):
        # What the deployed Lambda gets: `polyfn build` writes this timeout (polyfn's default
        # unless declared) into the template, never leaving Lambda's own 3 s default.
        context = lambda_context(
            remaining_ms=int(fn.settings.effective_timeout * 1000), function=lambda_name
        )
        handler = polyfn_aws.handler(app, function=function)
        try:
            return handler(event, context), True
        except Exception as exc:
            if passes(exc):
                raise
            return error_payload(exc, context.aws_request_id), False


def http_status(result: Any) -> int | None:
    """The HTTP status in a Lambda's result, or None when it is no HTTP answer."""
    status = result.get("statusCode") if isinstance(result, dict) else None
    return status if type(status) is int else None
