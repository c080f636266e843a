"""What the Azure Functions host and Python worker would do around a function, built only from
azure-functions' own pieces: host-shaped `Datum`s from the JSON fixtures, the library's converters
to build the objects the function gets, and its HttpResponseConverter to read the answer back.

The worker itself cannot run here (it needs the host binary); its two steps that matter to an app,
loading a function (checking parameters and annotations) and passing its context, are mirrored
from azure-functions-python-worker functions.py / bindings/context.py.
"""

from __future__ import annotations

import base64
import copy
import inspect
import json
import threading
import typing
import uuid
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import meta
from azure.functions._abc import TraceContext
from azure.functions.blob import BlobConverter
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.http import HttpRequestConverter, HttpResponseConverter
from azure.functions.queue import QueueMessageInConverter
from azure.functions.servicebus import ServiceBusMessageInConverter
from azure.functions.timer import TimerRequestConverter

REGISTRY: Any = meta.get_binding_registry()  # type: ignore[no-untyped-call]
EVENTS = Path(__file__).resolve().parent.parent / "events" / "azure"

CONVERTERS: dict[str, Any] = {
    "httpTrigger": HttpRequestConverter,
    "timerTrigger": TimerRequestConverter,
    "blobTrigger": BlobConverter,
    "eventGridTrigger": EventGridEventInConverter,
    "queueTrigger": QueueMessageInConverter,
    "serviceBusTrigger": ServiceBusMessageInConverter,
}


def load(name: str) -> dict[str, Any]:
    """A fixture file as plain JSON (edit a deep copy, then turn it into Datums)."""
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


def datum(spec: Any) -> Any:
    """A `meta.Datum` from {"type", "value"|"base64"}; "http" values nest Datums."""
    if not isinstance(spec, dict) or "type" not in spec:
        return spec
    kind = spec["type"]
    if kind == "bytes":
        value = base64.b64decode(spec["base64"]) if "base64" in spec else spec["value"]
        if isinstance(value, str):
            value = value.encode()
        return meta.Datum(value, "bytes")
    if kind == "json":
        value = spec["value"]
        return meta.Datum(value if isinstance(value, str) else json.dumps(value), "json")
    if kind == "http":
        out: dict[str, Any] = {}
        for key, item in spec["value"].items():
            if key in ("headers", "query", "params"):
                out[key] = {k: datum(v) for k, v in item.items()}
            else:
                out[key] = datum(item)
        return meta.Datum(out, "http")
    return meta.Datum(spec.get("value"), kind)


class HostTraceContext(TraceContext):
    def __init__(self, traceparent: str) -> None:
        self._parent = traceparent

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class HostContext(func.Context):
    """The context the worker passes to a parameter named ``context``."""

    def __init__(self, function_name: str, invocation_id: str | None = None) -> None:
        self._name = function_name
        self._id = invocation_id or str(uuid.uuid4())
        self._trace = HostTraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")

    @property
    def invocation_id(self) -> str:
        return self._id

    @property
    def thread_local_storage(self) -> type[threading.local]:
        return threading.local

    @property
    def function_name(self) -> str:
        return self._name

    @property
    def function_directory(self) -> str:
        return "/home/site/wwwroot"

    @property
    def trace_context(self) -> Any:
        return self._trace

    @property
    def retry_context(self) -> Any:
        return None


class Host:
    """The functions of one FunctionApp, indexed once (get_functions may run once per app)."""

    def __init__(self, function_app: func.FunctionApp) -> None:
        self.functions: dict[str, Any] = {
            str(f.get_function_name()): f for f in function_app.get_functions()
        }

    def bindings(self, name: str) -> list[dict[str, Any]]:
        return json.loads(self.functions[name].get_function_json())["bindings"]  # type: ignore[no-any-return]

    def trigger(self, name: str) -> dict[str, Any]:
        return next(b for b in self.bindings(name) if b["direction"] == "IN")

    def decode(self, name: str, fixture: dict[str, Any]) -> Any:
        """The object the worker would pass: the trigger's converter over the fixture's Datums."""
        trigger = self.trigger(name)
        metadata = {k: datum(v) for k, v in fixture.get("metadata", {}).items()}
        converter = CONVERTERS[trigger["type"]]
        return converter.decode(datum(fixture["data"]), trigger_metadata=metadata)

    def call(self, name: str, fixture: dict[str, Any], invocation_id: str | None = None) -> Any:
        trigger = self.trigger(name)
        arg = self.decode(name, fixture)
        user = self.functions[name].get_user_function()
        return user(**{trigger["name"]: arg}, context=HostContext(name, invocation_id))

    def http(self, name: str, fixture: dict[str, Any]) -> meta.Datum:
        """Call an HTTP function and encode its answer as the worker sends it to the host."""
        return HttpResponseConverter.encode(self.call(name, fixture), expected_type=None)

    def load_problems(self, name: str) -> list[str]:
        """What the worker's loader (functions.Registry.add_function) would refuse."""
        fn = self.functions[name]
        user = fn.get_user_function()
        params = dict(inspect.signature(user).parameters)
        hints = typing.get_type_hints(user)
        problems = []
        if "context" in params:
            params.pop("context")
            anno = hints.get("context")
            if not isinstance(anno, type) or anno.__name__ != "Context":
                problems.append(f"context annotated {anno!r}")
        bound = {b["name"]: b for b in self.bindings(name) if b["name"] != "$return"}
        if set(params) != set(bound):
            problems.append(f"parameters {sorted(params)} != bindings {sorted(bound)}")
        for pname, binding in bound.items():
            anno = hints.get(pname)
            converter = REGISTRY.get(binding["type"])
            if converter is None or not converter.check_input_type_annotation(anno):
                problems.append(f"{pname}: {anno!r} does not fit {binding['type']}")
        returns = [b for b in self.bindings(name) if b["name"] == "$return"]
        if returns:
            converter = REGISTRY.get(returns[0]["type"])
            if not converter.check_output_type_annotation(hints.get("return")):
                problems.append(f"return {hints.get('return')!r} does not fit {returns[0]['type']}")
        return problems


def encoded_response(d: meta.Datum) -> tuple[int, dict[str, str], list[str], bytes]:
    """(status, headers, Set-Cookie values as the host would write them, body) of an http Datum."""
    value = d.value
    cookies = []
    for jar in value["cookies"] or []:
        for morsel in jar.values():
            cookies.append(morsel.OutputString())
    headers = {k.lower(): v.value for k, v in value["headers"].items()}
    return int(value["status_code"].value), headers, cookies, value["body"].value
