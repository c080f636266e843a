"""The Azure Functions host and Python worker around one function call: the one emulation of them
that the conformance drivers (targets/azure_http.py, targets/azure_events.py), ``polyfn invoke
--provider azure`` (polyfn_azure's `_samples.invoke`), the tests (tests/azure, tests/samples),
the benchmarks and scripts/demo.py share.

The worker itself cannot run here (it needs the host binary). Its steps that matter to an app are
mirrored from azure-functions-python-worker (functions.py, bindings/context.py, dispatcher.py,
bindings/datumdef.py):

- the host's TypedData (protobuf JSON, as ``polyfn events azure`` writes it) becomes the Datum
  the worker builds (`to_datum`);
- loading a function: every parameter but ``context`` is a binding, and the binding's converter
  accepts its annotation (`load_problems`);
- the ``context`` argument: a ``func.Context`` whose trace context carries the W3C traceparent
  (`context`; azure-functions ships only the abstract class);
- a call: the trigger's converter from azure-functions decodes the host's Datum, the function
  runs, and a coroutine is awaited (`call`);
- the answer: the InvocationResponse, an HTTP result through HttpResponseConverter
  (`invoke`).

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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


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


def trigger(fn: Any) -> Any:
    """The trigger binding of the indexed function `fn` (every function the worker loads has
    one)."""
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
    binding = trigger(fn)
    problems = load_problems(fn)
    if problems:
        raise AssertionError(f"the worker would not load {fn.get_function_name()}: {problems}")
    argument = _converter(binding.type).decode(datum, trigger_metadata=metadata or {})
    return _run(fn, binding.name, argument, invocation_id, trace_parent)


def _run(
    fn: Any,
    parameter: str,
    argument: Any,
    invocation_id: str | None = None,
    trace_parent: str | None = None,
) -> Any:
    """Call the user function of `fn` with the decoded trigger `argument` (and ``context`` when
    it asks for it), awaiting a coroutine; a raise escapes."""
    user = fn.get_user_function()
    kwargs = {parameter: argument}
    if "context" in inspect.signature(user).parameters and parameter != "context":
        kwargs["context"] = context(fn.get_function_name(), invocation_id, trace_parent)
    result = user(**kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


# -- the host's side: TypedData in, InvocationResponse out ---------------------------------------


class HostError(ValueError):
    """The host could not hand the worker this invocation (a malformed TypedData, a binding that
    does not match): `field` names where and `source` what was reading, as an `EventError`
    does."""

    def __init__(self, message: str, field: str | None = None, source: str = "azure host") -> None:
        super().__init__(message)
        self.field = field
        self.source = source


def to_datum(typed: Any, where: str) -> Any:
    """A host TypedData (protobuf JSON) as the `azure.functions.meta.Datum` the worker builds
    from it (azure-functions-python-worker, bindings/datumdef.py, Datum.from_typed_data)."""
    import base64

    from azure.functions.meta import Datum

    if not isinstance(typed, dict) or len(typed) != 1:
        raise HostError(
            "expected a TypedData object with one of string, json, bytes, int, double, http", where
        )
    ((kind, value),) = typed.items()
    if kind == "http":
        if not isinstance(value, dict):
            raise HostError("expected an RpcHttp object", where)

        def strings(name: str) -> dict[str, Any]:
            found = value.get(name) or {}
            if not isinstance(found, dict):
                raise HostError("expected a map of strings", f"{where}.http.{name}")
            return {k: Datum(str(v), "string") for k, v in found.items()}

        body = value.get("body")
        return Datum(
            {
                "method": Datum(str(value.get("method", "")), "string"),
                "url": Datum(str(value.get("url", "")), "string"),
                "headers": strings("headers"),
                "body": to_datum(body, f"{where}.http.body")
                if body is not None
                else Datum(b"", "bytes"),
                "params": strings("params"),
                "query": strings("query"),
            },
            "http",
        )
    if kind == "bytes":
        try:
            return Datum(base64.b64decode(value, validate=True), "bytes")
        except (TypeError, ValueError) as exc:
            raise HostError(f"bytes are not base64: {exc}", where) from None
    if kind in ("string", "json"):
        return Datum(str(value), kind)
    if kind in ("int", "double"):
        return Datum(int(value) if kind == "int" else float(value), kind)
    raise HostError(f"unsupported TypedData kind {kind!r}", where)


def _body_typed(raw: bytes, headers: dict[str, Any]) -> dict[str, str]:
    """A response body as TypedData JSON: text (a text type, no Content-Encoding, UTF-8) as a
    string, so it reads as it is; anything else as base64 bytes."""
    import base64

    from conformance._wire import is_text_content

    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    if is_text_content(lower.get("content-type"), lower.get("content-encoding")):
        try:
            return {"string": raw.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"bytes": base64.b64encode(raw).decode()}


def _http_result(datum: Any) -> dict[str, Any]:
    """The RpcHttp the worker returns to the host, as JSON (a text body as a string, any other
    body as base64 bytes)."""
    value = datum.value
    body = value["body"]
    raw = body.value if isinstance(body.value, bytes) else str(body.value).encode()
    cookies = [
        c.output(header="").strip()
        for cookie in value.get("cookies") or []
        for c in cookie.values()
    ]
    headers = {name: d.value for name, d in value["headers"].items()}
    return {
        "statusCode": value["status_code"].value,
        "headers": headers,
        "cookies": cookies,
        "body": _body_typed(raw, headers),
    }


def http_status(result: Any) -> int | None:
    """The HTTP status in what `invoke` returned, or None when it is no HTTP answer."""
    try:
        return int(result["returnValue"]["http"]["statusCode"])
    except (KeyError, TypeError, ValueError):
        return None


def _first_input(event: dict[str, Any]) -> dict[str, Any]:
    inputs = event.get("inputData")
    if not isinstance(inputs, list) or not inputs or not isinstance(inputs[0], dict):
        raise HostError("expected a list of parameter bindings", "inputData")
    first: dict[str, Any] = inputs[0]
    return first


def decode(event: dict[str, Any], binding_type: str) -> Any:
    """The object azure-functions' converter for `binding_type` builds from a host-shaped
    invocation: its first input's TypedData and the trigger metadata, each as the worker's
    Datum. What the converter cannot read is a `HostError`."""
    first = _first_input(event)
    metadata_json = event.get("triggerMetadata") or {}
    if not isinstance(metadata_json, dict):
        raise HostError("expected an object", "triggerMetadata")
    metadata = {k: to_datum(v, f"triggerMetadata.{k}") for k, v in metadata_json.items()}
    datum = to_datum(first.get("data"), "inputData[0].data")
    converter = _converter(binding_type)
    try:
        return converter.decode(datum, trigger_metadata=metadata)
    except (KeyError, TypeError, ValueError, NotImplementedError) as exc:
        raise HostError(
            f"azure-functions' {converter.__name__} cannot read it: {type(exc).__name__}: {exc}",
            "inputData[0].data",
            f"azure {binding_type}",
        ) from exc


def invoke(
    function_app: Any,
    function: str,
    event: dict[str, Any],
    *,
    check: Callable[[str], None] = lambda binding: None,
    passes: Callable[[BaseException], bool] = lambda exc: False,
) -> tuple[Any, bool]:
    """Run a host-shaped invocation (``inputData``, ``triggerMetadata``, ``invocationId``) through
    function `function` of the indexed FunctionApp `function_app`: each input's TypedData becomes
    a Datum, the trigger binding's azure-functions converter decodes it, the function runs, and
    an HTTP result goes back through HttpResponseConverter. `check` sees the trigger's binding
    type first (and may refuse the invocation). Returns (the InvocationResponse's outputs, True),
    or its failure and False when the function raised; a `HostError` (an invocation the host or
    the converter cannot read) and an exception for which `passes` is true propagate."""
    import traceback

    from azure.functions.http import HttpResponseConverter

    registered = {f.get_function_name(): f for f in function_app.get_functions()}
    if function not in registered:
        raise HostError(
            f"the FunctionApp registers no Azure function {function!r} (it has "
            f"{', '.join(str(n) for n in registered)})"
        )
    fn = registered[function]
    binding = fn.get_trigger()
    if binding is None:
        raise HostError(f"Azure function {function!r} has no trigger binding")
    _first_input(event)
    check(binding.type)
    invocation_id = str(event.get("invocationId") or "00000000-0000-0000-0000-000000000000")
    # The converter first, apart from the call: what it cannot read is the host's error, not a
    # failed invocation.
    argument = decode(event, binding.type)
    try:
        result = _run(fn, binding.name, argument, invocation_id)
    except Exception as exc:
        if passes(exc):
            raise
        # The worker reports a raise as a failed InvocationResponse; the host then retries or
        # poisons the input as the trigger's extension decides.
        return {
            "invocationId": invocation_id,
            "result": {
                "status": "Failure",
                "exception": {
                    "message": f"{type(exc).__name__}: {exc}",
                    "stackTrace": "".join(traceback.format_tb(exc.__traceback__)),
                },
            },
        }, False
    response: dict[str, Any] = {"invocationId": invocation_id, "result": {"status": "Success"}}
    if result is not None:
        out = HttpResponseConverter.encode(result, expected_type=None)
        response["returnValue"] = (
            {"http": _http_result(out)} if out.type == "http" else {out.type: out.value}
        )
    return response, True
