"""HTTP: `azure.functions.HttpRequest` in, `azure.functions.HttpResponse` out.

What the worker hands over (azure-functions-host GrpcMessageConversionExtensions.ToRpcHttp):
``url`` is ``scheme://host`` + the request path + the raw query string; ``headers`` has one
lower-cased name per header, repeated headers joined with ","; ``params`` keeps one value per query
key, so the query is read from ``url``; the body arrives as bytes.
https://github.com/Azure/azure-functions-host/blob/dev/src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs

What goes back: azure-functions' HttpResponseConverter.encode sends one value per header name (a
dict), except Set-Cookie, which it parses with http.cookies.SimpleCookie into the ``cookies`` list;
the worker turns each into an RpcHttpCookie (name, value, domain, path, expires, secure, httponly,
samesite, max-age) and the host writes one Set-Cookie per cookie. So repeated headers are joined
with ", " here, and a Set-Cookie that SimpleCookie would drop or split is refused loudly.
https://github.com/Azure/azure-functions-python-library/blob/dev/azure/functions/http.py
"""

from __future__ import annotations

import urllib.parse
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

import azure.functions as func

from polyfn import EventError, Headers, HttpRequest, PolyfnError, QueryParams
from polyfn._http import stripped_prefix
from polyfn._values import required_str
from polyfn_azure._identity import client_principal
from polyfn_azure._values import attribute

if TYPE_CHECKING:
    from polyfn import HttpResponse

SOURCE = "azure http trigger"

# The attributes the worker carries from a SimpleCookie morsel into RpcHttpCookie (azure-functions-
# python-worker bindings/datumdef.py parse_to_rpc_http_cookie_list); any other is lost on the way.
CARRIED_COOKIE_ATTRIBUTES = frozenset(
    {"domain", "path", "expires", "secure", "httponly", "samesite", "max-age"}
)

# Azure's front ends put the client address first in X-Forwarded-For, often as "ip:port" ("a
# comma-separated list of IP:port", Application Gateway's docs say of its own header):
# https://learn.microsoft.com/azure/application-gateway/rewrite-http-headers-url
FORWARDED_FOR = "x-forwarded-for"


class UndeliverableCookieError(PolyfnError):
    """A Set-Cookie value the Azure Python worker would drop, split or alter."""


def strip_prefix(path: str, route_prefix: str) -> str:
    """The path without the host's route prefix (``/api/orders`` -> ``/orders``).

    The host matches routes case-insensitively, so the prefix is compared that way too. A path
    outside the prefix is returned unchanged: the router then answers it as any unknown path.
    """
    if not route_prefix:
        return path or "/"
    prefix = "/" + route_prefix
    if path.lower() == prefix.lower():
        return "/"
    if path[: len(prefix) + 1].lower() == prefix.lower() + "/":
        return path[len(prefix) :]
    return path


def client_ip(forwarded_for: str | None) -> str | None:
    """The first address of X-Forwarded-For, without the port App Service appends."""
    if not forwarded_for:
        return None
    first = forwarded_for.split(",", 1)[0].strip()
    if first.startswith("["):  # [v6]:port
        end = first.find("]")
        return first[1:end] if end > 0 else None
    if first.count(":") == 1:  # v4:port
        first = first.split(":", 1)[0]
    return first or None


def request_from_azure(req: Any, route_prefix: str) -> HttpRequest:
    """A polyfn HttpRequest from what azure-functions' HttpRequestConverter built."""
    method = required_str(attribute(req, "method", "method", SOURCE), "method", SOURCE)
    url = required_str(attribute(req, "url", "url", SOURCE), "url", SOURCE)
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:
        raise EventError(f"url is not a URL: {exc}", field="url", source=SOURCE) from None
    raw_headers = attribute(req, "headers", "headers", SOURCE)
    pairs: list[tuple[str, str]] = []
    try:
        items = list(raw_headers.items())
    except (AttributeError, TypeError):
        raise EventError("headers is not a mapping", field="headers", source=SOURCE) from None
    for name, value in items:
        if not isinstance(name, str) or not isinstance(value, str):
            raise EventError(
                f"header {name!r:.40} has a non-string value", field="headers", source=SOURCE
            )
        pairs.append((name, value))
    headers = Headers(pairs)
    query: QueryParams | str
    if parts.query:
        query = parts.query  # parsed by HttpRequest when the handler first reads it
    else:
        # A url without a query string: the single-valued params are all there is.
        params = attribute(req, "params", "params", SOURCE)
        query = QueryParams([(str(k), str(v)) for k, v in dict(params).items()])
    body = attribute(req, "get_body", "body", SOURCE)()
    if not isinstance(body, bytes):
        raise EventError(f"body is {type(body).__name__}, not bytes", field="body", source=SOURCE)
    full = urllib.parse.unquote(parts.path) or "/"
    path = strip_prefix(full, route_prefix)
    request = HttpRequest(
        method,
        path,
        query=query,
        headers=headers,
        body=body,
        source_ip=client_ip(headers.get(FORWARDED_FOR)),
        raw=req,
        root_path=stripped_prefix(full, path),
    )
    request.cloud_reader = client_principal
    return request


def check_cookie(set_cookie: str) -> None:
    """Refuse a Set-Cookie value that would not reach the client as written.

    SimpleCookie silently yields nothing for values it cannot parse (an unquoted space, an
    attribute it does not know such as ``Partitioned``) and a cookie of its own for an unknown
    ``name=value`` attribute, so the worker would drop or split the cookie without a word.
    """
    name, _, rest = set_cookie.partition("=")
    name = name.strip()
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(set_cookie)
    except CookieError as exc:
        raise UndeliverableCookieError(f"Set-Cookie {name!r}: {exc}") from None
    morsels = list(jar.values())
    if len(morsels) != 1 or morsels[0].key != name:
        raise UndeliverableCookieError(
            f"Set-Cookie {name!r} cannot travel through the Azure Functions Python worker: "
            "http.cookies.SimpleCookie reads it as "
            f"{[m.key for m in morsels] or 'nothing'}; quote a value holding spaces, commas or "
            f"semicolons and use only the attributes {sorted(CARRIED_COOKIE_ATTRIBUTES)}"
        )
    for part in rest.split(";")[1:]:
        key = part.split("=", 1)[0].strip().lower()
        if key and key not in CARRIED_COOKIE_ATTRIBUTES:
            raise UndeliverableCookieError(
                f"Set-Cookie {name!r}: attribute {key!r} is not carried by the Azure Functions "
                f"Python worker (it carries {sorted(CARRIED_COOKIE_ATTRIBUTES)})"
            )
    expires = morsels[0]["expires"]
    if expires and not _readable_expires(expires):
        raise UndeliverableCookieError(
            f"Set-Cookie {name!r}: Expires={expires!r} is not a date the Azure Functions Python "
            "worker can read; write it as an HTTP date ('Thu, 01 Jan 2026 00:00:00 GMT')"
        )


def _readable_expires(value: str) -> bool:
    """Whether the worker can turn Expires into its RpcHttpCookie timestamp: it reads it with
    dateutil.parser.parse and fails the whole invocation when it cannot (azure-functions-python-
    worker bindings/datumdef.py parse_cookie_attr_expires). dateutil ships with the worker; where
    it is absent, the HTTP date parser of the standard library stands in."""
    import importlib

    try:
        # By name: python-dateutil is the worker's dependency, not the adapter's (and has no stubs).
        parse = importlib.import_module("dateutil.parser").parse
    except ImportError:
        from email.utils import parsedate_to_datetime as parse
    try:
        parse(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def response_to_azure(resp: HttpResponse) -> func.HttpResponse:
    """An azure.functions.HttpResponse carrying `resp` whole: status, every header, every cookie,
    the body bytes as they are (binary included: the converter sends them as bytes)."""
    headers: dict[str, str] = {}
    for name in resp.headers:
        headers[name] = ", ".join(resp.headers.getall(name))
    for cookie in resp.cookies:
        check_cookie(cookie)
    out = func.HttpResponse(body=resp.body, status_code=resp.status, headers=headers)
    for cookie in resp.cookies:
        out.headers.add("Set-Cookie", cookie)
    return out
