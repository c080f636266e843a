"""App flavours: the conformance app's HTTP routes written natively, or in a web framework served
through `polyfn.asgi` / `polyfn.wsgi` (``polyfn conformance --app-flavour fastapi``).

A framework app answers the same routes as conformance/app.py and records what its framework
showed it (the framework's own request object: path, route template, parameters, query,
headers, cookies, body, client address) through the same `seen`, so the built-in HTTP cases
check the bridge end to end. Where a framework answers a case its own way, its module's `SKIPS`
names the case and says why; the runner reports those cases as skipped with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from polyfn import Context


@dataclass(frozen=True)
class Flavour:
    name: str
    app_ref: str  # module:attr of the polyfn App
    needs: tuple[str, ...]  # the modules it imports (a missing one names the pip package)
    description: str


FLAVOURS = {
    f.name: f
    for f in (
        Flavour("native", "conformance.app:app", (), "polyfn handlers (conformance/app.py)"),
        Flavour(
            "fastapi",
            "conformance.app_fastapi:app",
            ("fastapi",),
            "a FastAPI app through polyfn.asgi",
        ),
        Flavour(
            "flask", "conformance.app_flask:app", ("flask",), "a Flask app through polyfn.wsgi"
        ),
    )
}

# Every route of the web apps: all the methods the conformance app's routes take.
WEB_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def framework_cases(cases: Iterable[Any]) -> list[Any]:
    """The HTTP cases a web-framework flavour runs: all but those of polyfn's own routing
    features (typed parameters, CORS, middleware, auth), which a framework app replaces with
    its framework's."""
    return [c for c in cases if c.trigger == "http" and not getattr(c, "feature", "")]


def skips_of(flavour: Flavour) -> dict[str, str]:
    """Case name -> why the flavour's framework answers it otherwise (its module's SKIPS)."""
    import importlib

    module = importlib.import_module(flavour.app_ref.partition(":")[0])
    return dict(getattr(module, "SKIPS", {}))


_FRAMEWORK_PARAM = re.compile(r"\{(\w+):path\}|<path:(\w+)>|<(?:\w+:)?(\w+)>")


def polyfn_template(template: str) -> str:
    """A framework's route template in polyfn's terms: ``{p:path}`` (Starlette) or
    ``<path:p>`` (Flask) is ``{p+}``, ``<p>`` is ``{p}``."""

    def one(match: re.Match[str]) -> str:
        greedy = match.group(1) or match.group(2)
        return "{" + greedy + "+}" if greedy else "{" + match.group(3) + "}"

    return _FRAMEWORK_PARAM.sub(one, template)


def record_framework_view(
    ctx: Context,
    *,
    endpoint: str,
    route: str,
    method: str,
    path: str,
    path_params: dict[str, str],
    query: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    cookies: dict[str, str],
    body: bytes,
    source_ip: str | None,
) -> dict[str, Any]:
    """Record what a framework showed its view, through the conformance app's own `seen`."""
    from conformance.app import seen
    from polyfn import HttpRequest

    req = HttpRequest(
        method,
        path,
        query=list(query),
        headers=list(headers),
        body=body,
        cookies=cookies,
        path_params=path_params,
        source_ip=source_ip,
    )
    req.route = polyfn_template(route)
    return seen(req, ctx.with_function(endpoint))


def json_return(kind: str) -> tuple[Any, int] | None:
    """What the native ``/return/{kind}`` handler's dict, list, tuple and model values become
    (JSON and a status), for a framework view to answer the same; None for the other kinds."""
    from conformance.app import Order

    values: dict[str, tuple[Any, int]] = {
        "dict": ({"kind": "dict", "n": 1, "unicode": "café ✓"}, 200),
        "list": ([1, "two", None], 200),
        "tuple": ({"created": True}, 201),
        "model": (Order(sku="ABC-1", quantity=2).model_dump(), 200),
    }
    return values.get(kind)
