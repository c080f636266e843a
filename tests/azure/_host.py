"""The Azure Functions host around the test suite's fixtures: host-shaped `Datum`s from the JSON
fixtures (tests/events/azure), and the functions of one FunctionApp as the host indexes them.

The worker's part (loading a function, its `context`, the call through the trigger's converter)
is conformance's one emulation of it, `conformance.azure_worker`, shared with the conformance
drivers and tests/samples.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import meta
from azure.functions.http import HttpResponseConverter

from conformance import azure_worker

REGISTRY: Any = meta.get_binding_registry()  # type: ignore[no-untyped-call]
EVENTS = Path(__file__).resolve().parent.parent / "events" / "azure"

# The trace parent the host passes in the tests' invocations (tests/azure/test_http.py reads it).
TRACE_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


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
        converter = REGISTRY.get(self.trigger(name)["type"])
        metadata = {k: datum(v) for k, v in fixture.get("metadata", {}).items()}
        return converter.decode(datum(fixture["data"]), trigger_metadata=metadata)

    def call(self, name: str, fixture: dict[str, Any], invocation_id: str | None = None) -> Any:
        """Run function `name` as the worker does on the fixture's Datums."""
        metadata = {k: datum(v) for k, v in fixture.get("metadata", {}).items()}
        return azure_worker.call(
            self.functions[name],
            datum(fixture["data"]),
            metadata,
            invocation_id=invocation_id,
            trace_parent=TRACE_PARENT,
        )

    def http(self, name: str, fixture: dict[str, Any]) -> meta.Datum:
        """Call an HTTP function and encode its answer as the worker sends it to the host."""
        return HttpResponseConverter.encode(self.call(name, fixture), expected_type=None)

    def load_problems(self, name: str) -> list[str]:
        """What the worker's loader would refuse (`conformance.azure_worker.load_problems`)."""
        return azure_worker.load_problems(self.functions[name])


def encoded_response(d: meta.Datum) -> tuple[int, dict[str, str], list[str], bytes]:
    """(status, headers, Set-Cookie values as the host would write them, body) of an http Datum."""
    value = d.value
    cookies = []
    for jar in value["cookies"] or []:
        for morsel in jar.values():
            cookies.append(morsel.OutputString())
    headers = {k.lower(): v.value for k, v in value["headers"].items()}
    return int(value["status_code"].value), headers, cookies, value["body"].value
