"""The Azure Functions Python worker around one function call: the one emulation of it that the
conformance drivers (targets/azure_http.py, targets/azure_events.py), the tests (tests/azure,
tests/samples) and scripts/demo.py share.

The worker itself cannot run here (it needs the host binary). Its steps that matter to an app are
mirrored from azure-functions-python-worker (functions.py, bindings/context.py, dispatcher.py):

- loading a function: every parameter but ``context`` is a binding, and the binding's converter
  accepts its annotation (`load_problems`);
- the ``context`` argument: a ``func.Context`` whose trace context carries the W3C traceparent
  (`context`; azure-functions ships only the abstract class);
- a call: the trigger's converter from azure-functions decodes the host's Datum, the function
  runs, and a coroutine is awaited (`call`).

Why here and not beside the adapter: like every driver, this module renders what the host and
worker do from their documentation and the worker's source, sharing no code with polyfn_azure,
so a mistake in the adapter cannot hide behind a matching mistake in its test host
(tests/conformance_events/test_independence.py holds it to that).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import typing
import uuid
from typing import Any


class _TraceContext:
    """``func.Context.trace_context`` (azure.functions._abc.TraceContext's properties)."""

    def __init__(self, trace_parent: str) -> None:
        self.trace_parent = trace_parent
        self.trace_state = ""
        self.attributes: dict[str, str] = {}


class _RetryContext:
    """``func.Context.retry_context`` of a first attempt (no retry policy has fired)."""

    retry_count = 0
    max_retry_count = 0
    exception = None


class _WorkerContext:
    """What the worker's invocation context answers (bindings/context.py)."""

    def __init__(self, function_name: str, invocation_id: str, trace_parent: str) -> None:
        self._function_name = function_name
        self._invocation_id = invocation_id
        self._trace = _TraceContext(trace_parent)

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return "/home/site/wwwroot"

    @property
    def thread_local_storage(self) -> type[threading.local]:
        return threading.local

    @property
    def trace_context(self) -> _TraceContext:
        return self._trace

    @property
    def retry_context(self) -> _RetryContext:
        return _RetryContext()


@functools.cache
def _context_class() -> type:
    import azure.functions as func

    # A real func.Context subclass: the worker's loader checks the annotation of ``context``.
    return type("WorkerContext", (_WorkerContext, func.Context), {})


def context(
    function_name: str, invocation_id: str | None = None, trace_parent: str | None = None
) -> Any:
    """The ``context`` argument of one invocation (a ``func.Context``); the trace parent is made
    from the invocation id unless given."""
    invocation_id = invocation_id or str(uuid.uuid4())
    if trace_parent is None:
        digits = invocation_id.replace("-", "").lower()
        if len(digits) != 32 or digits.strip("0123456789abcdef"):
            digits = uuid.uuid5(uuid.NAMESPACE_URL, invocation_id).hex
        trace_parent = f"00-{digits}-{'0' * 15}1-01"
    return _context_class()(function_name, invocation_id, trace_parent)


def _trigger(fn: Any) -> Any:
    trigger = fn.get_trigger()
    if trigger is None:
        raise AssertionError(f"Azure function {fn.get_function_name()} has no trigger binding")
    return trigger


def _converter(binding_type: str) -> Any:
    from azure.functions import meta

    converter = meta.get_binding_registry().get(binding_type)  # type: ignore[no-untyped-call]
    if converter is None:
        raise AssertionError(f"azure-functions has no converter for {binding_type!r}")
    return converter


def load_problems(fn: Any) -> list[str]:
    """What the worker's loader (functions.Registry.add_function) would refuse in the indexed
    function `fn`: parameters that are no binding, annotations its converter does not accept."""
    import json

    user = fn.get_user_function()
    params = dict(inspect.signature(user).parameters)
    hints = typing.get_type_hints(user)
    bindings = json.loads(fn.get_function_json())["bindings"]
    problems = []
    if "context" in params:
        params.pop("context")
        anno = hints.get("context")
        if not isinstance(anno, type) or anno.__name__ != "Context":
            problems.append(f"context annotated {anno!r}")
    bound = {b["name"]: b for b in bindings if b["name"] != "$return"}
    if set(params) != set(bound):
        problems.append(f"parameters {sorted(params)} != bindings {sorted(bound)}")
    for name, binding in bound.items():
        anno = hints.get(name)
        if not _converter(binding["type"]).check_input_type_annotation(anno):
            problems.append(f"{name}: {anno!r} does not fit {binding['type']}")
    returns = [b for b in bindings if b["name"] == "$return"]
    if returns and not _converter(returns[0]["type"]).check_output_type_annotation(
        hints.get("return")
    ):
        problems.append(f"return {hints.get('return')!r} does not fit {returns[0]['type']}")
    return problems


def call(
    fn: Any,
    datum: Any,
    metadata: dict[str, Any] | None = None,
    *,
    invocation_id: str | None = None,
    trace_parent: str | None = None,
) -> Any:
    """Run the indexed function `fn` as the worker does for one invocation: the trigger's
    converter decodes `datum` (with the trigger metadata), ``context`` is passed when the function
    asks for it, and a coroutine is awaited. Returns what the function returned; a raise escapes
    (the invocation failed)."""
    trigger = _trigger(fn)
    problems = load_problems(fn)
    if problems:
        raise AssertionError(f"the worker would not load {fn.get_function_name()}: {problems}")
    converter = _converter(trigger.type)
    user = fn.get_user_function()
    kwargs = {trigger.name: converter.decode(datum, trigger_metadata=metadata or {})}
    if "context" in inspect.signature(user).parameters and trigger.name != "context":
        kwargs["context"] = context(fn.get_function_name(), invocation_id, trace_parent)
    result = user(**kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable
