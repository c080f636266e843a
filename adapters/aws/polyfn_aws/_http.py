"""HTTP on Lambda: API Gateway REST and HTTP APIs, function URLs and ALB, in and out.

Which source sent an event is read from the event itself (`http_kind`), and the answer takes the
shape that source requires. What each source does to a request, from the AWS docs and from
captures of real events:

- REST API (``httpMethod``, no ``version``): path as sent (percent-encoded; a custom-domain
  base path kept in it); query decoded, every value in ``multiValueQueryStringParameters``;
  repeated headers in ``multiValueHeaders``; cookies in the Cookie header. Answer:
  ``multiValueHeaders``.
- HTTP API, payload 1.0 (``version: "1.0"``): as REST, but the path arrives decoded, with a named
  stage as prefix.
- HTTP API, payload 2.0 (``version: "2.0"``): ``rawPath`` decoded, stage or API-mapping prefix
  kept; ``rawQueryString`` still encoded; repeated headers joined with commas (one value, as
  sent); cookies in the ``cookies`` array. Answer: ``headers`` (one value each, repeated ones
  joined with ``", "``) and ``cookies``.
- Function URL (the 2.0 shape, domain ``<id>.lambda-url.<region>.on.aws``): as 2.0, but
  ``rawPath`` percent-encoded and no stages.
- ALB (``requestContext.elb``): path percent-encoded; query keys and values still percent-encoded;
  repeated headers and query keys: the last value only. Answer: ``headers`` and
  ``statusDescription`` ("200 OK").
- ALB with multi-value headers (``multiValueHeaders`` in the event): every value of headers and
  query keys (still encoded). Answer: ``multiValueHeaders`` and ``statusDescription``.

Sources: payload formats
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
and https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html,
function URLs https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html, ALB
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html ("If the
query parameters are URL-encoded, the load balancer does not decode them"; without multi-value
headers "the load balancer uses the last value sent by the client"). That the HTTP API hands over
``rawPath`` already decoded while REST, function URLs and ALB keep the encoding is what captures
of real events show (fastify/aws-lambda-fastify#169, honojs/hono#2156); the docs do not say.

Stage and base path: the path the app routes on is the part of the request path that the matched
API Gateway route covers. The route template (``resource`` in 1.0, ``routeKey`` in 2.0) and the
path parameters say how many segments that is; what comes before them is the stage or the
custom-domain base path, and is dropped. With the catch-all ``$default`` route of an HTTP API only
a named stage can be recognised (an API-mapping key cannot).

Single-value ALB answers carry one value per header name: repeated headers are joined with
``", "`` (RFC 9110 section 5.3 allows that for list-valued fields); several Set-Cookie cannot be
joined (RFC 6265 section 3), so only the last reaches the client, and a warning naming the
dropped cookies is logged. Enable the target group's ``lambda.multi_value_headers.enabled`` to
keep them all.

Bodies: a body that is not text (`HttpResponse.is_text`) travels base64 with
``isBase64Encoded: true``; text travels as is. An answer larger than the source carries back
(`RESPONSE_LIMITS`) becomes a logged 500.

Not requests: Lambda authorizer events (``methodArn``; ``routeArn`` for HTTP APIs) and WebSocket
API events (``requestContext.eventType``, ``connectionId``) look like requests but want something
else back; `http_kind` refuses them with an `EventError` that says what they are.
"""

from __future__ import annotations

from polyfn._errors import EventError
from polyfn._http import HttpRequest, internal_error, reason_phrase
from polyfn._multidict import Headers
from polyfn._values import base64_bytes, string_lists, string_map
from polyfn_aws._context import to_context
from polyfn_aws._fields import all_strings, check

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from polyfn._app import App, Function
    from polyfn._http import HttpResponse
    from polyfn_aws._fields import FieldSpec

REST = "API Gateway REST API (payload 1.0)"
HTTP_V1 = "API Gateway HTTP API (payload 1.0)"
HTTP_V2 = "API Gateway HTTP API (payload 2.0)"
URL = "Lambda function URL"
ALB = "Application Load Balancer"
ALB_MULTI = "Application Load Balancer (multi-value headers)"

# Function URL endpoints: https://<url-id>.lambda-url.<region>.on.aws
# https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
FUNCTION_URL_DOMAIN = ".lambda-url."

# A Lambda authorizer's REQUEST event looks like a request but carries the ARN of the method or
# route it guards, and wants a policy (or {"isAuthorized": ...}) back, not a response: polyfn
# serves no authorizers. REST APIs and HTTP APIs with payload 1.0 send ``methodArn``
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
# and HTTP APIs with payload 2.0 send ``"type": "REQUEST"`` and ``routeArn``
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
AUTHORIZER_MARKS = ("methodArn", "routeArn")
AUTHORIZER = "API Gateway Lambda authorizer"
# A WebSocket API's events ($connect with REST-like httpMethod and headers, then messages and
# $disconnect) carry the connection in ``requestContext``: ``eventType`` (CONNECT, MESSAGE,
# DISCONNECT) and ``connectionId``. Its routes are no HTTP routes: polyfn serves no WebSocket APIs.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
WEBSOCKET_MARKS = ("eventType", "connectionId")
WEBSOCKET = "API Gateway WebSocket API"

# The most a source carries back, counted on the JSON the runtime sends: Lambda's synchronous
# invocation payload, "6 MB" each way (the service refuses a response over 6 MiB and 100 bytes
# with "Response payload size exceeded maximum allowed payload size"), and ALB's "maximum size of
# the response JSON that the Lambda function can send is 1 MB". A binary body counts after base64,
# and awslambdaric on polyfn's runtime (python3.11) writes non-ASCII text as \uXXXX escapes.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
ALB_RESPONSE_LIMIT = 1024 * 1024
# JSON escapes at most 12 bytes per character of the body (an astral character becomes two
# \uXXXX escapes); the head of a response (status, headers, cookies) is allowed this much. A body
# that cannot reach the limit by that measure is not serialised to be counted.
_MAX_BYTES_PER_CHAR = 12
_HEAD_ALLOWANCE = 64 * 1024

# Fields each source must or may carry, checked to name the culprit when a read fails.
V1_FIELDS: tuple[FieldSpec, ...] = (
    ("httpMethod", str, True),
    ("path", str, True),
    ("resource", str, False),
    ("headers", dict, False),
    ("multiValueHeaders", dict, False),
    ("queryStringParameters", dict, False),
    ("multiValueQueryStringParameters", dict, False),
    ("pathParameters", dict, False),
    ("body", str, False),
    ("isBase64Encoded", bool, False),
    ("requestContext", dict, True),
    ("requestContext.identity", dict, False),
    ("requestContext.identity.sourceIp", str, False),
    ("requestContext.requestId", str, False),
)
V2_FIELDS: tuple[FieldSpec, ...] = (
    ("rawPath", str, True),
    ("rawQueryString", str, False),
    ("routeKey", str, False),
    ("headers", dict, False),
    ("cookies", list, False),
    ("pathParameters", dict, False),
    ("body", str, False),
    ("isBase64Encoded", bool, False),
    ("requestContext", dict, True),
    ("requestContext.http", dict, True),
    ("requestContext.http.method", str, True),
    ("requestContext.http.sourceIp", str, False),
    ("requestContext.stage", str, False),
    ("requestContext.domainName", str, False),
    ("requestContext.requestId", str, False),
)
ALB_FIELDS: tuple[FieldSpec, ...] = (
    ("httpMethod", str, True),
    ("path", str, True),
    ("headers", dict, False),
    ("multiValueHeaders", dict, False),
    ("queryStringParameters", dict, False),
    ("multiValueQueryStringParameters", dict, False),
    ("body", str, False),
    ("isBase64Encoded", bool, False),
    ("requestContext.elb", dict, True),
)
FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    REST: V1_FIELDS,
    HTTP_V1: V1_FIELDS,
    HTTP_V2: V2_FIELDS,
    URL: V2_FIELDS,
    ALB: ALB_FIELDS,
    ALB_MULTI: ALB_FIELDS,
}
RESPONSE_LIMITS: dict[str, int] = {
    REST: LAMBDA_RESPONSE_LIMIT,
    HTTP_V1: LAMBDA_RESPONSE_LIMIT,
    HTTP_V2: LAMBDA_RESPONSE_LIMIT,
    URL: LAMBDA_RESPONSE_LIMIT,
    ALB: ALB_RESPONSE_LIMIT,
    ALB_MULTI: ALB_RESPONSE_LIMIT,
}

# What reading a malformed event can raise on the fast path (UnicodeError and binascii.Error
# are ValueErrors).
_READ_ERRORS = (KeyError, TypeError, AttributeError, ValueError, IndexError)


def http_kind(event: dict[str, Any], request_context: Any) -> str | None:
    """Which HTTP source sent `event` (one with a ``requestContext``), or None if none did.

    An authorizer or WebSocket event, which looks like a request but is none, is an `EventError`
    that says what it is.
    """
    if type(request_context) is not dict:
        return None
    if "elb" in request_context:
        return ALB_MULTI if "multiValueHeaders" in event else ALB
    for mark in AUTHORIZER_MARKS:
        if mark in event:
            raise EventError(
                f"a Lambda authorizer event (it has {mark}) is no request: API Gateway wants an "
                "IAM policy or isAuthorized back, and polyfn serves no authorizers; integrate "
                "this Lambda with the route instead of attaching it as the route's authorizer",
                field=mark,
                source=AUTHORIZER,
            )
    for mark in WEBSOCKET_MARKS:
        if mark in request_context:
            raise EventError(
                f"a WebSocket API event (route {request_context.get('routeKey')!r}) is no HTTP "
                "request, and polyfn serves no WebSocket APIs; integrate this Lambda with an "
                "HTTP API, a REST API, a function URL or an ALB",
                field=f"requestContext.{mark}",
                source=WEBSOCKET,
            )
    version = event.get("version")
    if version == "2.0" or "http" in request_context:
        domain = request_context.get("domainName")
        if type(domain) is str and FUNCTION_URL_DOMAIN in domain:
            return URL
        return HTTP_V2
    if "httpMethod" in event:
        return HTTP_V1 if version == "1.0" else REST
    return None


# -- in ----------------------------------------------------------------------------------------


def _body(event: dict[str, Any], kind: str) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        return b""
    if type(body) is not str:
        raise EventError("expected a string", field="body", source=kind)
    flag = event.get("isBase64Encoded")
    if flag is True:
        return base64_bytes(body, "body", kind)
    if flag is None or flag is False:
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise EventError(
                "the body is not valid Unicode text", field="body", source=kind
            ) from None
    raise EventError("expected a boolean", field="isBase64Encoded", source=kind)


# A percent-escape that is no UTF-8 ("/a%FF") is the client's doing and becomes U+FFFD, as
# urllib's own default, the Azure adapter and werkzeug (GCP) decode it: a request, not a failed
# invocation.
_UNQUOTE_ERRORS = "replace"


def _unquote(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote

    return unquote(text, errors=_UNQUOTE_ERRORS)


def _unquote_plus(text: str) -> str:
    if "%" not in text and "+" not in text:
        return text
    from urllib.parse import unquote_plus

    return unquote_plus(text, errors=_UNQUOTE_ERRORS)


def _drop_segments(path: str, drop: int) -> str:
    """`path` without its first `drop` non-empty segments."""
    i, n = 0, len(path)
    for _ in range(drop):
        while i < n and path[i] == "/":
            i += 1
        i = path.find("/", i)
        if i < 0:
            return "/"
    return path[i:] or "/"


def app_path(path: str, template: Any, params: Any, stage: Any = None) -> str:
    """The part of `path` that the API Gateway route `template` covers.

    Segments before it are a stage name or a custom-domain base path. Without a usable template
    (the ``$default`` route), only a leading ``/{stage}`` of a named stage is removed.
    """
    if type(template) is str and template.startswith("/"):
        if template == path or (
            # As deep as a template without a greedy parameter: no prefix to drop.
            "+}" not in template
            and path.count("/") == template.count("/")
            and path[-1] != "/"
            and template[-1] != "/"
        ):
            return path
        count = 0
        for seg in template.split("/"):
            if not seg:
                continue
            if seg[0] == "{" and seg.endswith("+}"):
                value = params.get(seg[1:-2]) if type(params) is dict else None
                if type(value) is not str:
                    return path
                count += sum(1 for part in value.split("/") if part)
            else:
                count += 1
        drop = sum(1 for part in path.split("/") if part) - count
        return _drop_segments(path, drop) if drop > 0 else path
    if type(stage) is str and stage and stage != "$default":
        prefix = "/" + stage
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
    return path


def _source_ip_from_forwarded(headers: Headers) -> str | None:
    # ALB appends the address it saw to X-Forwarded-For; entries before it are client-supplied.
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html
    values = headers.getall("x-forwarded-for")
    if not values:
        return None
    return values[-1].rsplit(",", 1)[-1].strip() or None


def _headers(value: Any, kind: str) -> dict[str, str]:
    """A single-valued header object, checked; `EventError` names a value that is no string.

    The dict goes to `HttpRequest` as is: it becomes `Headers` when the handler first looks.
    """
    if value is None:
        return {}
    if type(value) is not dict or not all_strings(value.values()):
        string_map(value, "headers", kind)  # raises, naming the field
    return value  # type: ignore[no-any-return]


def _request_v2(event: dict[str, Any], kind: str) -> HttpRequest:
    rc = event["requestContext"]
    http = rc["http"]
    headers = event.get("headers")
    if headers is None:
        headers = {}
    elif type(headers) is not dict or not all_strings(headers.values()):
        # A TypeError: `check` then names the field.
        raise TypeError("headers")
    cookies = event.get("cookies")
    if cookies:
        if type(cookies) is not list or any(type(c) is not str for c in cookies):
            raise EventError("expected an array of strings", field="cookies", source=kind)
        # Function URLs send the Cookie header as well; HTTP APIs only the array. Payload 2.0
        # header names are lower case.
        if "cookie" not in headers:
            headers = {**headers, "cookie": "; ".join(cookies)}
    path = event["rawPath"]
    if type(path) is not str:
        raise TypeError("rawPath")
    if kind == URL:
        path = _unquote(path)
    else:
        route_key = event.get("routeKey")
        template = route_key.partition(" ")[2] if type(route_key) is str else None
        path = app_path(path, template, event.get("pathParameters"), rc.get("stage"))
    query: Any = event.get("rawQueryString")  # a string is parsed by HttpRequest on first use
    if not query:
        if query is not None and query != "":
            raise EventError("expected a string", field="rawQueryString", source=kind)
        # Only the parsed map (events written by hand, or Powertools' own
        # lambdaFunctionUrlEventWithHeaders.json): its values are as AWS joined them.
        single = event.get("queryStringParameters")
        query = list(string_map(single, "queryStringParameters", kind).items()) if single else ""
    elif type(query) is not str:
        raise EventError("expected a string", field="rawQueryString", source=kind)
    return HttpRequest(
        http["method"],
        path,
        query=query,
        headers=headers,
        body=_body(event, kind),
        source_ip=http.get("sourceIp"),
        raw=event,
    )


def _request_v1(event: dict[str, Any], kind: str) -> HttpRequest:
    multi_headers = event.get("multiValueHeaders")
    if multi_headers:
        headers = Headers.from_multi(string_lists(multi_headers, "multiValueHeaders", kind))
    else:
        headers = Headers(_headers(event.get("headers"), kind))
    multi_query = event.get("multiValueQueryStringParameters")
    if multi_query:
        query = [
            (k, v)
            for k, vs in string_lists(multi_query, "multiValueQueryStringParameters", kind).items()
            for v in vs
        ]
    else:
        single = string_map(event.get("queryStringParameters"), "queryStringParameters", kind)
        query = list(single.items())
    rc = event["requestContext"]
    path = event["path"]
    if type(path) is not str:
        raise TypeError("path")
    # An HTTP API's named stage leads its 1.0 `path` (a REST API's `path` has no stage); with the
    # `$default` route (`resource` "$default") only the stage says what to drop.
    stage = rc.get("stage") if kind == HTTP_V1 else None
    path = app_path(path, event.get("resource"), event.get("pathParameters"), stage)
    if kind == REST:
        path = _unquote(path)
    identity = rc.get("identity")
    source_ip = identity.get("sourceIp") if type(identity) is dict else None
    return HttpRequest(
        event["httpMethod"],
        path,
        query=query,
        headers=headers,
        body=_body(event, kind),
        source_ip=source_ip if type(source_ip) is str else None,
        raw=event,
    )


def _request_alb(event: dict[str, Any], kind: str) -> HttpRequest:
    if kind == ALB_MULTI:
        multi = string_lists(event.get("multiValueHeaders"), "multiValueHeaders", kind)
        headers = Headers.from_multi(multi)
        raw_query = string_lists(
            event.get("multiValueQueryStringParameters"), "multiValueQueryStringParameters", kind
        )
        query = [(_unquote_plus(k), _unquote_plus(v)) for k, vs in raw_query.items() for v in vs]
    else:
        headers = Headers(_headers(event.get("headers"), kind))
        single = string_map(event.get("queryStringParameters"), "queryStringParameters", kind)
        query = [(_unquote_plus(k), _unquote_plus(v)) for k, v in single.items()]
    path = event["path"]
    if type(path) is not str:
        raise TypeError("path")
    return HttpRequest(
        event["httpMethod"],
        _unquote(path),
        query=query,
        headers=headers,
        body=_body(event, kind),
        source_ip=_source_ip_from_forwarded(headers),
        raw=event,
    )


_READERS = {
    REST: _request_v1,
    HTTP_V1: _request_v1,
    HTTP_V2: _request_v2,
    URL: _request_v2,
    ALB: _request_alb,
    ALB_MULTI: _request_alb,
}


def to_request(event: dict[str, Any], kind: str) -> HttpRequest:
    """The neutral request for an HTTP event of source `kind`; `EventError` if it is unreadable."""
    try:
        return _READERS[kind](event, kind)
    except EventError:
        raise
    except _READ_ERRORS as exc:
        raise check(event, FIELDS[kind], kind, exc) from None


# -- out ---------------------------------------------------------------------------------------


def _body_out(resp: HttpResponse, out: dict[str, Any]) -> dict[str, Any]:
    text = resp.text_or_none()
    if text is not None:
        out["body"] = text
        out["isBase64Encoded"] = False
        return out
    from binascii import b2a_base64  # loaded on the first binary body

    out["body"] = b2a_base64(resp.body, newline=False).decode("ascii")
    out["isBase64Encoded"] = True
    return out


def _multi_headers(resp: HttpResponse) -> dict[str, list[str]]:
    multi = resp.headers.to_multi()
    if resp.cookies:
        multi["Set-Cookie"] = list(resp.cookies)
    return multi


def _joined_headers(resp: HttpResponse) -> dict[str, str]:
    pairs = resp.headers.multi_items()
    joined = dict(pairs)
    if len(joined) < len(pairs):  # a repeated header: join its values in order
        joined = {}
        for name, value in pairs:
            previous = joined.get(name)
            joined[name] = value if previous is None else f"{previous}, {value}"
    return joined


def to_response(resp: HttpResponse, kind: str, warn: Any = None) -> dict[str, Any]:
    """The answer `kind` expects for `resp`.

    `warn` (a logger) is told when the single-value ALB shape cannot carry every Set-Cookie.
    """
    status = resp.status
    if kind in (HTTP_V2, URL):
        out: dict[str, Any] = {"statusCode": status, "headers": _joined_headers(resp)}
        if resp.cookies:
            out["cookies"] = list(resp.cookies)
        return _body_out(resp, out)
    if kind in (REST, HTTP_V1):
        return _body_out(resp, {"statusCode": status, "multiValueHeaders": _multi_headers(resp)})
    description = f"{status} {reason_phrase(status)}"
    if kind == ALB_MULTI:
        return _body_out(
            resp,
            {
                "statusCode": status,
                "statusDescription": description,
                "multiValueHeaders": _multi_headers(resp),
            },
        )
    headers = _joined_headers(resp)
    if resp.cookies:
        headers["Set-Cookie"] = resp.cookies[-1]
        if len(resp.cookies) > 1 and warn is not None:
            warn.warning(
                "single-value ALB answers carry one Set-Cookie; dropped %d: %s (enable "
                "lambda.multi_value_headers.enabled on the target group to send them all)",
                len(resp.cookies) - 1,
                [c.split("=", 1)[0] for c in resp.cookies[:-1]],
            )
    return _body_out(
        resp, {"statusCode": status, "statusDescription": description, "headers": headers}
    )


def oversize(out: dict[str, Any], kind: str) -> int | None:
    """The size of the answer `out` in bytes when it is over what `kind` carries back, else None."""
    limit = RESPONSE_LIMITS[kind]
    body = out.get("body")
    if type(body) is str and len(body) * _MAX_BYTES_PER_CHAR + _HEAD_ALLOWANCE < limit:
        return None
    import json

    size = len(json.dumps(out).encode())
    return size if size > limit else None


# -- the invocation ----------------------------------------------------------------------------


def handle(
    app: App,
    function: Function | None,
    event: dict[str, Any],
    lambda_context: Any,
    *,
    kind: str,
    default_name: str,
) -> dict[str, Any]:
    """Serve one HTTP event: translate in, route and call (never raises), translate out."""
    req = to_request(event, kind)
    request_id = event["requestContext"].get("requestId")
    ctx = to_context(lambda_context, default_name, request_id if type(request_id) is str else None)
    resp = app.handle_http(req, ctx, function=function)
    out = to_response(resp, kind, ctx.log if kind == ALB and len(resp.cookies) > 1 else None)
    size = oversize(out, kind)
    if size is not None:
        ctx.log.error(
            "the response (status %s, %d bytes of JSON with the body%s) is over the %d bytes %s "
            "carries back; answered 500 instead. Serve large content from object storage (a "
            "presigned URL) rather than through the function",
            resp.status,
            size,
            " in base64" if out.get("isBase64Encoded") else "",
            RESPONSE_LIMITS[kind],
            "an ALB" if kind in (ALB, ALB_MULTI) else "a synchronous Lambda invocation",
            extra={"method": req.method, "path": req.path},
        )
        out = to_response(internal_error(ctx.invocation_id), kind)
    return out
