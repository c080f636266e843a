"""Azure and GCP plumbing for the benchmarks: each cloud's own library builds what a function gets.

Azure: host-shaped `Datum`s from the test suite's fixtures (tests/events/azure), azure-functions'
own converters, and the functions that `polyfn_azure.function_app` registered, called as the
worker calls them (conformance.azure_worker is the one emulation of the worker, shared with the
conformance drivers and the tests: its context is reused here, not copied).
GCP: functions-framework's own Flask app (`create_app`) over bench/_gcp_targets.py; WSGI environs
built once with werkzeug's EnvironBuilder and copied per call (a server builds a fresh one per
request); CloudEvents parsed with cloudevents' `from_http`, the call functions-framework makes.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from _common import REPO, Timings, fmt_us, table

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conformance import azure_worker
from tests.azure._host import REGISTRY, Host, datum
from tests.azure._host import load as load_azure

GCP_SOURCE = REPO / "bench" / "_gcp_targets.py"
# functions-framework records its configuration in these (get_function_target & co.).
_FF_ENV = ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE")

__all__ = [
    "AzureCall",
    "azure_call",
    "environ",
    "ff_app",
    "share_table",
    "wsgi",
]


class AzureCall:
    """One Azure trigger: the converter's decode of a fixture, and the registered function."""

    def __init__(self, host: Host, function: str, fixture: str) -> None:
        spec = load_azure(fixture)
        binding = host.trigger(function)
        self.converter = REGISTRY.get(binding["type"])
        self.data = datum(spec["data"])
        self.metadata = {k: datum(v) for k, v in spec.get("metadata", {}).items()}
        self.param = binding["name"]
        self.user = host.functions[function].get_user_function()
        # Built once, outside the timing (the worker builds one per invocation).
        self.context = azure_worker.context(function, "11111111-2222-3333-4444-555555555555")

    def decode(self) -> Any:
        """What the worker hands the function: azure-functions' converter over the Datum."""
        return self.converter.decode(self.data, trigger_metadata=self.metadata)

    def call(self, arg: Any) -> Any:
        return self.user(**{self.param: arg}, context=self.context)


def azure_call(function_app: Any, function: str, fixture: str) -> AzureCall:
    return AzureCall(Host(function_app), function, fixture)


def ff_app(target: str, signature_type: str) -> Any:
    """functions-framework's Flask app serving `target` of bench/_gcp_targets.py."""
    import functions_framework

    saved = {k: os.environ.get(k) for k in _FF_ENV}
    try:
        return functions_framework.create_app(  # type: ignore[no-untyped-call]
            target, str(GCP_SOURCE), signature_type
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def environ(
    method: str, path: str, headers: Mapping[str, str], body: bytes = b""
) -> Callable[[], dict[str, Any]]:
    """A factory of fresh WSGI environs for one request (werkzeug builds the template once)."""
    from werkzeug.test import EnvironBuilder

    template = EnvironBuilder(
        path=path, method=method, headers=list(headers.items()), data=body
    ).get_environ()

    def fresh() -> dict[str, Any]:
        env = dict(template)
        env["wsgi.input"] = io.BytesIO(body)
        return env

    return fresh


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None


def wsgi(flask_app: Any, env: dict[str, Any]) -> bytes:
    """One request through a WSGI app, the response body read and closed as a server does."""
    result = flask_app(env, _start_response)
    try:
        return b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def load_gcp(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (REPO / "tests" / "events" / "gcp" / name).read_text(encoding="utf-8")
    )
    return data


def share_table(
    t: Timings, *, cloud: list[str], raw: str, polyfn: str, whole_raw: str, whole_polyfn: str
) -> str:
    """What polyfn adds to a whole invocation, beside the cloud library's own cost (everything the
    raw invocation spends outside the raw function). Paired medians, see _common."""
    own = t.diff(whole_raw, raw)
    adds = t.diff(whole_polyfn, whole_raw)
    rows = [["cloud library's own work (whole raw invocation - raw function)", fmt_us(own)]]
    rows += [[f"- of which {name}", fmt_us(t.median(name))] for name in cloud]
    rows += [
        [f"raw function: {raw}", fmt_us(t.median(raw))],
        [f"polyfn: {polyfn}", fmt_us(t.median(polyfn))],
        ["polyfn function - raw function", fmt_us(t.diff(polyfn, raw))],
        ["**polyfn adds to the whole invocation**", f"**{fmt_us(adds)}**"],
        ["polyfn adds / cloud library's own work", f"{adds / own:.2f}"],
    ]
    return table(["per invocation", "median µs"], rows)
