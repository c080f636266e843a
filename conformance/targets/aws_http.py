"""AWS HTTP targets: API Gateway REST (payload 1.0), HTTP API (2.0), Lambda Function URLs, ALB in
single-value and multi-value header modes.

Each driver renders a case the way that service builds the Lambda event, validates the event with
aws-lambda-powertools' parser models, calls ``polyfn_aws.handler(app)`` with awslambdaric's
``LambdaContext`` and reads the returned dict back the way the service does. Service behaviour
rendered here, with where it is documented or observed:

- REST (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format):
  ``path`` keeps the client's percent-encoding and has no stage; ``pathParameters`` and query
  values are decoded; ``headers``/``queryStringParameters`` hold the last value of a repeated name,
  the ``multiValue*`` maps every value. The response's ``headers`` and ``multiValueHeaders`` are
  merged, ``multiValueHeaders`` winning for a name in both.
- HTTP API 2.0 (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
  repeated headers and query values joined with commas, cookies in ``cookies``; ``rawQueryString``
  stays encoded but ``rawPath`` arrives percent-DECODED (not documented; observed on live APIs:
  honojs/hono#2156, middleapi/standard-server#93). The response's ``cookies`` become Set-Cookie
  lines, ``multiValueHeaders`` is not part of the 2.0 format, and a response without
  ``statusCode`` is taken as a 200 JSON body.
- Function URLs (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html): the 2.0
  shape with ``routeKey``/``stage`` ``$default``, the path still encoded, no ``pathParameters``.
- ALB (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html):
  path and query values as the client sent them (not decoded); single-value mode keeps the last
  value of a repeated header or query key and answers with one value per header name;
  multi-value mode uses only the ``multiValue*`` maps both ways; ``statusDescription`` is
  required; request bodies and response JSON are limited to 1 MB.
- Lambda itself: the result must serialize to JSON and is limited to 6 MB for a synchronous
  invocation (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any, ClassVar

from conformance._httpcase import HttpCase
from conformance._spec import Outcome, Skip
from conformance._wire import (
    cookie_header,
    decoded_path,
    group_headers,
    is_text_body,
    query_pairs,
    raw_query_pairs,
    request_id,
)

if TYPE_CHECKING:
    from polyfn import App

ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTION = "conformance"
ALB_ARN = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/conformance/73e2d6bc24d8a067"
)
ALB_BODY_LIMIT = 1024 * 1024  # "The maximum size of the request body ... is 1 MB"
ALB_RESPONSE_LIMIT = 1024 * 1024  # "The maximum size of the response JSON ... is 1 MB"
LAMBDA_REQUEST_LIMIT = 6 * 1024 * 1024
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


def lambda_context(request: str) -> Any:
    """The context awslambdaric builds for an invocation (30 s left)."""
    from awslambdaric.lambda_context import LambdaContext

    ctx = LambdaContext(
        request,
        None,
        None,
        int(time.time() * 1000) + 30_000,
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}",
    )
    ctx.function_name = FUNCTION
    return ctx


def _body(case: HttpCase, text_ok: bool) -> tuple[str | None, bool]:
    if not case.body:
        return None, False
    if text_ok and is_text_body(case):
        return case.body.decode("utf-8"), False
    return base64.b64encode(case.body).decode(), True


def _last(pairs: list[tuple[str, str]]) -> dict[str, str]:
    last: dict[str, str] = {}
    for name, value in pairs:
        last[name] = value
    return last


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return multi


def _header_pairs(case: HttpCase, host: str, with_cookie: bool) -> list[tuple[str, str]]:
    pairs = [("Host", host), ("User-Agent", "polyfn-conformance/1")]
    pairs.extend(case.headers)
    cookie = cookie_header(case)
    if with_cookie and cookie is not None:
        pairs.append(("Cookie", cookie))
    pairs.append(("X-Forwarded-For", case.source_ip))
    pairs.append(("X-Forwarded-Proto", "https"))
    pairs.append(("X-Forwarded-Port", "443"))
    if case.body:
        pairs.append(("Content-Length", str(len(case.body))))
    return pairs


def _times() -> tuple[str, int]:
    now = time.time()
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), int(now * 1000)


# -- request renderers ----------------------------------------------------------------------------


def render_rest(case: HttpCase, base_path: str | None = None) -> dict[str, Any]:
    """The REST event; with `base_path`, as a custom domain with that base path mapping to the
    stage sends it: ``path`` and ``requestContext.path`` start with the base path and carry no
    stage (observed: localstack/localstack#12296, aws/serverless-java-container#34)."""
    host = "api.example.com" if base_path else "abc123defg.execute-api.us-east-1.amazonaws.com"
    path = f"/{base_path}{case.path}" if base_path else case.path
    headers = _header_pairs(case, host, with_cookie=True)
    query = query_pairs(case.query)
    body, b64 = _body(case, text_ok=True)
    when, epoch = _times()
    proxy = decoded_path(case).lstrip("/")
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": case.method,
        "headers": _last(headers),
        "multiValueHeaders": _multi(headers),
        "queryStringParameters": _last(query) or None,
        "multiValueQueryStringParameters": _multi(query) or None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123defg",
            "resourceId": "a1b2c3",
            "resourcePath": "/{proxy+}",
            "httpMethod": case.method,
            "extendedRequestId": "Ab1Cd2Ef3Gh=",
            "requestTime": when,
            "requestTimeEpoch": epoch,
            "path": path if base_path else "/prod" + case.path,
            "stage": "prod",
            "domainName": host,
            "domainPrefix": "abc123defg",
            "protocol": "HTTP/1.1",
            "requestId": request_id(),
            "identity": {"sourceIp": case.source_ip, "userAgent": "polyfn-conformance/1"},
        },
        "body": body,
        "isBase64Encoded": b64,
    }


def _render_v2(case: HttpCase, *, url: bool) -> dict[str, Any]:
    host = (
        "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
        if url
        else "abc123defg.execute-api.us-east-1.amazonaws.com"
    )
    grouped = group_headers(_header_pairs(case, host, with_cookie=False))
    query = query_pairs(case.query)
    body, b64 = _body(case, text_ok=True)
    when, epoch = _times()
    # HTTP APIs hand the path over decoded; Function URLs keep the client's encoding.
    path = case.path if url else decoded_path(case)
    route = "$default" if url else "ANY /{proxy+}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": case.query,
        "headers": {name: ",".join(values) for name, values in grouped.items()},
        "requestContext": {
            "accountId": "anonymous" if url else ACCOUNT,
            "apiId": host.split(".", 1)[0],
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": case.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": case.source_ip,
                "userAgent": "polyfn-conformance/1",
            },
            "requestId": request_id(),
            "routeKey": route,
            "stage": "$default",
            "time": when,
            "timeEpoch": epoch,
        },
        "isBase64Encoded": b64,
    }
    if case.cookies:
        event["cookies"] = [f"{name}={value}" for name, value in case.cookies]
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in _multi(query).items()}
    if body is not None:
        event["body"] = body
    proxy = decoded_path(case).lstrip("/")
    if not url and proxy:
        event["pathParameters"] = {"proxy": proxy}
    return event


def render_http_api(case: HttpCase) -> dict[str, Any]:
    return _render_v2(case, url=False)


def render_function_url(case: HttpCase) -> dict[str, Any]:
    return _render_v2(case, url=True)


def _render_alb(case: HttpCase, *, multi: bool) -> dict[str, Any]:
    headers = [(n.lower(), v) for n, v in _header_pairs(case, "conformance.elb.local", True)]
    # ALB passes query names and values exactly as the client encoded them.
    query = raw_query_pairs(case.query)
    body, b64 = _body(case, text_ok=True)
    event: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": ALB_ARN}},
        "httpMethod": case.method,
        "path": case.path,
        "body": body if body is not None else "",
        "isBase64Encoded": b64,
    }
    if multi:
        event["multiValueHeaders"] = _multi(headers)
        event["multiValueQueryStringParameters"] = _multi(query)
    else:
        event["headers"] = _last(headers)
        event["queryStringParameters"] = _last(query)
    return event


def render_alb(case: HttpCase) -> dict[str, Any]:
    return _render_alb(case, multi=False)


def render_alb_multi(case: HttpCase) -> dict[str, Any]:
    return _render_alb(case, multi=True)


# -- validation with the third-party parser ------------------------------------------------------


def _alb_multi_model() -> Any:
    """Powertools' AlbModel requires the single-value maps, which a multi-value target group
    does not send; the same model with the multi-value maps in their place."""
    from aws_lambda_powertools.utilities.parser.models import AlbModel
    from pydantic import create_model

    return create_model(
        "AlbMultiValueModel",
        __base__=AlbModel,
        headers=(dict[str, str] | None, None),
        queryStringParameters=(dict[str, str] | None, None),
        multiValueHeaders=(dict[str, list[str]], ...),
        multiValueQueryStringParameters=(dict[str, list[str]], ...),
    )


def validate(source: str, event: dict[str, Any]) -> None:
    """Parse `event` with the Powertools model for `source`; raises if it does not conform."""
    from aws_lambda_powertools.utilities.parser import models

    model: Any = {
        "aws-rest": models.APIGatewayProxyEventModel,
        "aws-http": models.APIGatewayProxyEventV2Model,
        "aws-url": models.LambdaFunctionUrlModel,
        "aws-alb": models.AlbModel,
    }.get(source)
    if model is None:
        model = _alb_multi_model()
    model.model_validate(event)


# -- reading the result back the way each service does ----------------------------------------


def _payload(result: Any) -> Any:
    """What the Lambda service sends back: the handler's result as JSON (6 MB at most)."""
    text = json.dumps(result)
    if len(text.encode()) > LAMBDA_RESPONSE_LIMIT:
        raise AssertionError(f"response payload of {len(text)} bytes exceeds Lambda's 6 MB")
    return json.loads(text)


def _decode_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise AssertionError(f"response body is {type(body).__name__}, not a string")
    if result.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode("utf-8")


def _split_cookies(headers: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    cookies = headers.pop("set-cookie", [])
    return headers, cookies


def read_rest(result: Any) -> Outcome:
    result = _payload(result)
    headers: dict[str, list[str]] = {}
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers.setdefault(name.lower(), []).extend(str(v) for v in values)
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            headers.setdefault(name.lower(), []).append(str(value))
    headers, cookies = _split_cookies(headers)
    return Outcome(int(result["statusCode"]), headers, cookies, _decode_body(result), result=result)


def read_v2(result: Any) -> Outcome:
    result = _payload(result)
    if not isinstance(result, dict) or "statusCode" not in result:
        # "If your Lambda function returns valid JSON and doesn't return a statusCode, API Gateway
        # assumes 200 and application/json, and the JSON is the body."
        return Outcome(
            200,
            {"content-type": ["application/json"]},
            [],
            json.dumps(result).encode(),
            result=result,
        )
    headers: dict[str, list[str]] = {}
    for name, value in (result.get("headers") or {}).items():
        headers.setdefault(name.lower(), []).append(str(value))
    headers, cookies = _split_cookies(headers)
    cookies.extend(result.get("cookies") or [])
    return Outcome(int(result["statusCode"]), headers, cookies, _decode_body(result), result=result)


def read_alb(result: Any, *, multi: bool) -> Outcome:
    result = _payload(result)
    if len(json.dumps(result).encode()) > ALB_RESPONSE_LIMIT:
        raise Skip("ALB takes at most 1 MB of response JSON from Lambda")
    status = int(result["statusCode"])
    description = result.get("statusDescription")
    if not isinstance(description, str) or not description.startswith(f"{status} "):
        raise AssertionError(f"statusDescription {description!r} is not '{status} <reason>'")
    headers: dict[str, list[str]] = {}
    if multi:
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.setdefault(name.lower(), []).extend(str(v) for v in values)
    else:
        for name, value in (result.get("headers") or {}).items():
            if not isinstance(value, str):
                raise AssertionError(f"single-value ALB header {name} is {value!r}, not a string")
            headers.setdefault(name.lower(), []).append(value)
    headers, cookies = _split_cookies(headers)
    return Outcome(status, headers, cookies, _decode_body(result), result=result)


# -- targets -----------------------------------------------------------------------------------


class AwsHttpTarget:
    """One AWS HTTP source; `run` renders, validates, invokes ``polyfn_aws.handler(app)``, reads."""

    cloud = "aws"
    trigger = "http"
    _handlers: ClassVar[dict[int, Any]] = {}

    def __init__(self, name: str, *, base_path: str | None = None) -> None:
        self.name = name
        self.base_path = base_path  # aws-rest only: served through a custom domain mapping

    def __repr__(self) -> str:
        return f"AwsHttpTarget({self.name!r})"

    def skip_reason(self, case: HttpCase) -> str | None:
        if self.name == "aws-alb":
            # Other repeated response headers can travel as one comma-joined line (RFC 9110
            # 5.3); Set-Cookie cannot.
            if case.set_cookies is not None and len(case.set_cookies) > 1:
                return "ALB single-value mode answers one value per header: one Set-Cookie at most"
            if case.has_repeated_headers:
                return "ALB single-value mode passes one value per header name"
            names = [n for n, _ in raw_query_pairs(case.query)]
            if len(names) != len(set(names)):
                return "ALB single-value mode passes one value per query key"
        if self.name.startswith("aws-alb") and len(case.body) >= ALB_BODY_LIMIT:
            return "ALB sends at most 1 MB of request body to Lambda"
        return None

    def render(self, case: HttpCase) -> dict[str, Any]:
        if self.base_path:
            return render_rest(case, self.base_path)
        renderer = {
            "aws-rest": render_rest,
            "aws-http": render_http_api,
            "aws-url": render_function_url,
            "aws-alb": render_alb,
            "aws-alb-multi": render_alb_multi,
        }[self.name]
        return renderer(case)

    def read(self, result: Any) -> Outcome:
        if self.name.startswith("aws-rest"):
            return read_rest(result)
        if self.name in ("aws-http", "aws-url"):
            return read_v2(result)
        return read_alb(result, multi=self.name == "aws-alb-multi")

    def handler(self, app: App) -> Any:
        handler = self._handlers.get(id(app))
        if handler is None:
            import polyfn_aws

            handler = self._handlers[id(app)] = (app, polyfn_aws.handler(app))
        return handler[1]

    def run(self, case: HttpCase, app: App) -> Outcome:
        reason = self.skip_reason(case)
        if reason:
            raise Skip(reason)
        event = self.render(case)
        if len(json.dumps(event).encode()) > LAMBDA_REQUEST_LIMIT:
            raise Skip("Lambda takes at most 6 MB of request payload (synchronous invocation)")
        validate("aws-rest" if self.base_path else self.name, event)
        handler = self.handler(app)
        result = handler(json.loads(json.dumps(event)), lambda_context(request_id()))
        return self.read(result)


TARGETS = [
    AwsHttpTarget("aws-rest"),
    AwsHttpTarget("aws-http"),
    AwsHttpTarget("aws-url"),
    AwsHttpTarget("aws-alb"),
    AwsHttpTarget("aws-alb-multi"),
]
