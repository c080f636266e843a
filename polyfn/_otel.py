"""OpenTelemetry, where the app has configured it: polyfn imports this module only when the
``opentelemetry`` package is already imported (an app that set up a tracer or meter provider has
done so), and never imports ``opentelemetry`` itself otherwise.

Each datapoint of `ctx.metrics` is recorded on the global meter's instrument of its kind (a
counter for `count`, a gauge for `gauge`, a histogram for `timing`), with its dimensions as
attributes, so an OpenTelemetry exporter (Azure Monitor's, Google Cloud's) takes it where the
cloud stores metrics.
"""

from __future__ import annotations

from typing import Any

_instruments: dict[tuple[str, str, str], Any] = {}


def record_metrics(pending: list[tuple[str, float, str, str, dict[str, str]]]) -> None:
    from opentelemetry import metrics

    meter = metrics.get_meter("polyfn")
    for name, value, unit, kind, dimensions in pending:
        key = (kind, name, unit)
        instrument: Any = _instruments.get(key)
        if instrument is None:
            if kind == "count":
                instrument = meter.create_counter(name, unit=unit)
            elif kind == "gauge":
                instrument = meter.create_gauge(name, unit=unit)
            else:
                instrument = meter.create_histogram(name, unit=unit)
            _instruments[key] = instrument
        if kind == "count":
            instrument.add(value, dimensions)
        elif kind == "gauge":
            instrument.set(value, dimensions)
        else:
            instrument.record(value, dimensions)
