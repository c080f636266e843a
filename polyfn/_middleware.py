"""HTTP middleware: wrapping layers, and the before and after hooks built on them.

A middleware is ``(req, ctx, call_next) -> response``: it sees the neutral `HttpRequest`, calls
``call_next(req)`` (or not, to answer itself) and returns the `HttpResponse` it got or another
one; anything a handler may return is accepted and converted the same way. App-wide layers wrap
route layers, which wrap the handler; within each list the first declared is the outermost.
So ``before`` hooks run in declaration order, app's first, and ``after`` hooks in the reverse
order, route's first (an onion, as in Starlette, Chalice and Powertools).

Errors: an `HTTPError` raised by a layer (or by what it wraps) becomes that status's answer right
there, so the layers outside see a response; any other exception goes up through ``call_next`` (a
layer may catch it) and, uncaught, becomes polyfn's logged 500 with no detail for the client, as
a handler's does.
"""

from __future__ import annotations

from polyfn._errors import ConfigError

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from polyfn._context import Context
    from polyfn._http import HttpRequest, HttpResponse

    CallNext = Callable[..., HttpResponse]
    Middleware = Callable[[HttpRequest, Context, CallNext], Any]
    BeforeHook = Callable[[HttpRequest, Context], Any]
    AfterHook = Callable[[HttpRequest, Context, HttpResponse], Any]


def before(hook: BeforeHook) -> Middleware:
    """A middleware that runs ``hook(req, ctx)`` first: returning None goes on to the handler,
    returning anything else (an HttpResponse, a dict, ...) answers with it instead."""
    _check_callable("before", hook)

    def before_layer(req: HttpRequest, ctx: Context, call_next: CallNext) -> Any:
        result = hook(req, ctx)
        return call_next(req) if result is None else result

    before_layer.__name__ = f"before({getattr(hook, '__name__', 'hook')})"
    return before_layer


def after(hook: AfterHook) -> Middleware:
    """A middleware that runs ``hook(req, ctx, resp)`` on the answer: returning None keeps `resp`
    (changed in place or not), returning anything else answers with it instead. It does not run
    when what it wraps raised an exception other than HTTPError (that answer is polyfn's 500)."""
    _check_callable("after", hook)

    def after_layer(req: HttpRequest, ctx: Context, call_next: CallNext) -> Any:
        resp = call_next(req)
        result = hook(req, ctx, resp)
        return resp if result is None else result

    after_layer.__name__ = f"after({getattr(hook, '__name__', 'hook')})"
    return after_layer


def _check_callable(what: str, value: object) -> None:
    if not callable(value):
        raise ConfigError(f"{what}: expected a function, got {value!r}")


def middleware_list(what: str, layers: Iterable[Middleware] | Middleware) -> tuple[Middleware, ...]:
    """The layers as a tuple, each checked to be callable (one callable alone is one layer)."""
    if callable(layers):
        layers = (layers,)
    try:
        out = tuple(layers)
    except TypeError:
        raise ConfigError(f"{what}: expected middleware functions, got {layers!r}") from None
    for layer in out:
        _check_callable(what, layer)
    return out
