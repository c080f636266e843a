"""The Azure HTTP target: what the Functions host and the Python worker do with one request.

The driver plays the host: it picks the function whose route template and methods match the
request (as the host's router does, under the default ``api`` route prefix), builds the
``azure.functions.meta.Datum`` the worker receives and turns it into ``func.HttpRequest`` with
azure-functions' own ``HttpRequestConverter.decode``; it calls the registered function of
``polyfn_azure.function_app(app)``, encodes the return value with ``HttpResponseConverter.encode``
and reads that Datum back as the host writes it to the client (cookies included).

Host behaviour rendered here:
- route prefix ``api`` unless host.json says otherwise
  (https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-output#hostjson-settings);
  route templates ``{name}``, ``{name?}``, ``{name:constraint}`` and catch-all ``{*name}``
  (https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint);
  route values arrive decoded; a request no function's route and methods match gets the
  host's own 404 without reaching the worker.
- headers and query parameters are single-valued maps: the host hands over ASP.NET Core's
  ``StringValues.ToString()``, repeated values joined with ``,``; header names lower-cased;
  the full URL (still percent-encoded) is in ``url``.
- the client's address reaches the app in ``X-Forwarded-For`` as ``ip:port`` (App Service's
  front ends add the port: pbojinov/request-ip#29).
- the body arrives as bytes (the Python worker asks for ``RawHttpBodyBytes``).
- the response's headers are a single-valued map; Set-Cookie values travel apart, as the
  worker's cookie list (one ``http.cookies.SimpleCookie`` per Set-Cookie).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

from conformance import azure_worker
from conformance._httpcase import HttpCase
from conformance._spec import Outcome
from conformance._wire import cookie_header, query_pairs

if TYPE_CHECKING:
    from polyfn import App

HOST = "conformance.azurewebsites.net"
ROUTE_PREFIX = "api"
CLIENT_PORT = "51234"


def _segment_rank(segment: str) -> int:
    if not (segment.startswith("{") and segment.endswith("}")):
        return 0
    return 2 if segment[1:].startswith("*") else 1


def match_route(template: str, segments: list[str]) -> dict[str, str] | None:
    """Route values if the decoded path `segments` match an Azure route `template`."""
    parts = [p for p in template.strip("/").split("/") if p]
    values: dict[str, str] = {}
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            inner = part[1:-1]
            if inner.startswith("*"):
                name = inner.lstrip("*").split(":")[0].rstrip("?")
                rest = "/".join(segments[i:])
                if not rest and not inner.endswith("?"):
                    return None
                values[name] = rest
                return values
            optional = inner.endswith("?")
            name = inner.rstrip("?").split(":")[0]
            if i >= len(segments):
                if optional:
                    continue
                return None
            values[name] = segments[i]
        elif i >= len(segments) or segments[i].lower() != part.lower():
            return None
    if len(segments) > len(parts):
        return None
    return values


def request_datum(case: HttpCase, route_values: dict[str, str]) -> Any:
    """The Datum the worker receives for this request."""
    from azure.functions.meta import Datum

    url = f"https://{HOST}/{ROUTE_PREFIX}{case.path}" + (f"?{case.query}" if case.query else "")
    lines = [("host", HOST), ("user-agent", "polyfn-conformance/1")]
    lines.extend((n.lower(), v) for n, v in case.headers)
    cookie = cookie_header(case)
    if cookie is not None:
        lines.append(("cookie", cookie))
    lines.append(("x-forwarded-for", f"{case.source_ip}:{CLIENT_PORT}"))
    if case.body:
        lines.append(("content-length", str(len(case.body))))
    headers: dict[str, list[str]] = {}
    for name, value in lines:
        headers.setdefault(name, []).append(value)
    query: dict[str, list[str]] = {}
    for name, value in query_pairs(case.query):
        query.setdefault(name, []).append(value)

    def s(v: str) -> Any:
        return Datum(v, "string")

    return Datum(
        {
            "method": s(case.method),
            "url": s(url),
            "headers": {n: s(",".join(vs)) for n, vs in headers.items()},
            "query": {n: s(",".join(vs)) for n, vs in query.items()},
            "params": {n: s(v) for n, v in route_values.items()},
            "body": Datum(case.body, "bytes"),
        },
        "http",
    )


def _set_cookie_lines(cookies: Any) -> list[str]:
    """Set-Cookie lines as the host writes them from the worker's cookie list."""
    lines = []
    for jar in cookies or []:
        for name, morsel in jar.items():
            parts = [f"{name}={morsel.value}"]
            for attr, label in (
                ("path", "Path"),
                ("domain", "Domain"),
                ("expires", "Expires"),
                ("max-age", "Max-Age"),
                ("samesite", "SameSite"),
            ):
                if morsel[attr]:
                    parts.append(f"{label}={morsel[attr]}")
            if morsel["secure"]:
                parts.append("Secure")
            if morsel["httponly"]:
                parts.append("HttpOnly")
            lines.append("; ".join(parts))
    return lines


def read_response(datum: Any) -> Outcome:
    """What the host sends the client for the worker's response Datum."""
    if datum.type == "string":
        body = datum.value.encode()
        return Outcome(200, {"content-type": ["text/plain; charset=utf-8"]}, [], body)
    if datum.type != "http":
        raise AssertionError(f"HTTP output Datum of type {datum.type!r}")
    value = datum.value
    headers: dict[str, list[str]] = {}
    for name, header in value["headers"].items():
        headers.setdefault(name.lower(), []).append(header.value)
    cookies = headers.pop("set-cookie", [])
    cookies.extend(_set_cookie_lines(value.get("cookies")))
    body = value["body"].value if value.get("body") is not None else b""
    if isinstance(body, str):
        body = body.encode()
    return Outcome(int(value["status_code"].value), headers, cookies, bytes(body or b""))


class _Function:
    def __init__(self, fn: Any) -> None:
        trigger = fn.get_trigger()
        self.name: str = fn.get_function_name()
        self.binding: str = trigger.name
        self.route: str = trigger.route if trigger.route is not None else self.name
        methods = trigger.methods or []
        self.methods = {str(getattr(m, "value", m)).upper() for m in methods}
        self.indexed = fn
        self.rank = [_segment_rank(p) for p in self.route.strip("/").split("/") if p]


class AzureHttpTarget:
    name = "azure-http"
    cloud = "azure"
    trigger = "http"
    _apps: ClassVar[dict[int, tuple[Any, list[_Function]]]] = {}

    def functions(self, app: App) -> list[_Function]:
        cached = self._apps.get(id(app))
        if cached is None:
            import polyfn_azure

            function_app = polyfn_azure.function_app(app)
            found = []
            for fn in function_app.get_functions():
                trigger = fn.get_trigger()
                if trigger is not None and trigger.get_binding_name() == "httpTrigger":
                    found.append(_Function(fn))
            cached = self._apps[id(app)] = (app, found)
        return cached[1]

    def route(self, case: HttpCase, app: App) -> tuple[_Function, dict[str, str]] | None:
        raw = case.path.lstrip("/")
        segments = [unquote(s) for s in raw.split("/")]
        if segments and segments[-1] == "":
            segments.pop()  # the host's router ignores a trailing slash
        prefix = [ROUTE_PREFIX] if ROUTE_PREFIX else []
        candidates = []
        for fn in self.functions(app):
            if fn.methods and case.method not in fn.methods:
                continue
            values = match_route("/".join([*prefix, fn.route]), [*prefix, *segments])
            if values is not None:
                candidates.append((fn.rank, fn, values))
        if not candidates:
            return None
        candidates.sort(key=lambda c: c[0])
        return candidates[0][1], candidates[0][2]

    def run(self, case: HttpCase, app: App) -> Outcome:
        from azure.functions.http import HttpResponseConverter

        found = self.route(case, app)
        if found is None:
            # The host answers itself; the worker never sees the request.
            return Outcome(404, {}, [], b"", result="host 404: no route")
        fn, values = found
        result = azure_worker.call(fn.indexed, request_datum(case, values))
        datum = HttpResponseConverter.encode(result, expected_type=None)
        outcome = read_response(datum)
        return replace(
            outcome,
            result={"function": fn.name, "status": outcome.status, "headers": outcome.headers},
        )


TARGETS = [AzureHttpTarget()]
