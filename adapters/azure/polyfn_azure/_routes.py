"""polyfn path templates as Azure Functions route templates, and which methods each function binds.

Azure route templates are ASP.NET Core's: ``{name}`` fills a segment, ``{*name}`` takes the rest of
the path; the host adds the route prefix itself.
https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint

405 with Allow: the host answers 404 to a method no function of a route accepts, so each route's
first function also binds every method that no function of that route declares. The request then
reaches the app, whose router answers 405 with Allow. Which Azure function the host picks among
matching routes does not matter either: the host tries routes in the order they were registered
(not by specificity), so every HTTP function hands the request to the app's router, which chooses
the polyfn function by method and path exactly as on the other clouds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from polyfn import ConfigError
from polyfn._app import HttpTrigger
from polyfn._routing import HTTP_METHODS, parse_template

if TYPE_CHECKING:
    from polyfn import App, Function

# The root template has no route of its own in Azure (an empty route means "the function's name");
# a catch-all binds it, and the router answers every other path it receives with 404.
ROOT_ROUTE = "{*polyfn_root}"

# Azure function names: a letter, then letters, digits, "_" or "-", at most 128, not "host".
# (azure-functions-host Utility.FunctionNameValidationRegex)
# https://learn.microsoft.com/azure/azure-functions/functions-reference#function-name
FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,127}$", re.IGNORECASE)


def route_template(template: str) -> str:
    """``/files/{path+}`` -> ``files/{*path}``; ``/`` -> a catch-all (see ROOT_ROUTE)."""
    segments = parse_template(template)
    if not segments:
        return ROOT_ROUTE
    parts = []
    for seg in segments:
        if seg.greedy:
            parts.append("{*" + (seg.name or "") + "}")
        elif seg.is_param:
            parts.append("{" + (seg.name or "") + "}")
        else:
            parts.append(seg.text)
    return "/".join(parts)


def check_function_name(name: str) -> str:
    if not FUNCTION_NAME.match(name) or name.lower() == "host":
        raise ConfigError(
            f"function {name!r} cannot be an Azure function: Azure function names start with a "
            "letter, hold only letters, digits, '_' and '-', are at most 128 characters and are "
            "not 'host'; give it another name with function_name="
        )
    return name


def http_methods(app: App) -> dict[str, tuple[str, ...]]:
    """Function name -> the methods its Azure function binds (declared + unclaimed ones)."""
    by_template: dict[str, list[Function]] = {}
    for fn in app.functions_of("http"):
        assert isinstance(fn.trigger, HttpTrigger)
        by_template.setdefault(fn.trigger.path, []).append(fn)
    result: dict[str, tuple[str, ...]] = {}
    for functions in by_template.values():
        declared: set[str] = set()
        for fn in functions:
            assert isinstance(fn.trigger, HttpTrigger)
            declared.update(fn.trigger.methods)
        for i, fn in enumerate(functions):
            assert isinstance(fn.trigger, HttpTrigger)
            methods = list(dict.fromkeys(fn.trigger.methods))
            if i == 0:
                methods += [m for m in HTTP_METHODS if m not in declared]
            result[fn.name] = tuple(methods)
    return result
