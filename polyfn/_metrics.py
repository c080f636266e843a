"""`ctx.metrics`: counts, gauges and timings of one invocation, checked at the call and flushed
once when the invocation ends, in the form the cloud stores without an agent.

- aws: CloudWatch Embedded Metric Format, one JSON line per dimension set and at most
  `EMF_MAX_METRICS` metrics, on stdout, which Lambda sends to CloudWatch Logs and CloudWatch
  extracts metrics from (the namespace is ``POLYFN_METRICS_NAMESPACE``, default ``polyfn``).
- gcp, azure, local: one structured log line (a record on Azure) per datapoint, with the
  invocation's trace: Cloud Logging log-based metrics and Application Insights queries read
  them; `polyfn serve` shows them. With OpenTelemetry configured (the ``opentelemetry`` package
  already imported by the app), each datapoint is also recorded on its global meter.

The rules are CloudWatch's, the strictest of the three, so a metric that works in one place works
in every other; a call that breaks one raises `MetricError` there and then, naming what is wrong.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

from math import isfinite

from polyfn._errors import MetricError

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from polyfn._context import Context

    Datapoint = tuple[str, float, str, str, dict[str, str]]

# CloudWatch's MetricDatum units (the EMF "Unit" must be one of them).
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
        "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
        "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
        "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
        "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    }
)  # fmt: skip
# EMF specification: at most 30 dimensions in a dimension set, at most 100 metrics in a
# directive (and 100 values of one metric); names are 1 to 255 characters, dimension values
# 1 to 1024. CloudWatch rejects values outside 8.515920e-109 .. 1.174271e+108 in magnitude.
MAX_DIMENSIONS = 30
EMF_MAX_METRICS = 100
EMF_MAX_VALUES = 100
MAX_NAME = 255
MAX_DIMENSION_VALUE = 1024
MAX_MAGNITUDE = 1.174271e108
MIN_MAGNITUDE = 8.515920e-109
NAMESPACE_ENV = "POLYFN_METRICS_NAMESPACE"
DEFAULT_NAMESPACE = "polyfn"

_checked_names: set[str] = set()


def _name(name: object, what: str) -> str:
    if type(name) is str and name in _checked_names:
        return name
    if (
        not isinstance(name, str)
        or not 1 <= len(name) <= MAX_NAME
        or not name.isascii()
        or not name.isprintable()
        or name.startswith(":")
    ):
        raise MetricError(
            f"{what} {name!r}: expected 1 to {MAX_NAME} printable ASCII characters, not starting "
            "with ':' (CloudWatch's rule)"
        )
    _checked_names.add(name)
    return name


def _value(name: str, value: object) -> None:
    if type(value) is not int and type(value) is not float:
        raise MetricError(f"metric {name!r}: the value must be an int or float, got {value!r}")
    if not isfinite(value) or (value != 0 and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE):
        raise MetricError(
            f"metric {name!r}: {value!r} is not a value CloudWatch stores (a finite number of "
            f"magnitude {MIN_MAGNITUDE:g} to {MAX_MAGNITUDE:g}, or 0)"
        )


def _dimensions(name: str, dimensions: dict[str, Any]) -> None:
    if len(dimensions) > MAX_DIMENSIONS:
        raise MetricError(
            f"metric {name!r}: {len(dimensions)} dimensions; CloudWatch takes at most "
            f"{MAX_DIMENSIONS}"
        )
    for key, value in dimensions.items():
        if key not in _checked_names:
            _name(key, f"metric {name!r}: dimension")
        if type(value) is not str or not 1 <= len(value) <= MAX_DIMENSION_VALUE:
            raise MetricError(
                f"metric {name!r}: dimension {key}={value!r} must be a str of 1 to "
                f"{MAX_DIMENSION_VALUE} characters"
            )


class Metrics:
    """Datapoints of one invocation: ``count(name, value=1)``, ``gauge(name, value)``,
    ``timing(name, ms)``, each with an optional ``unit=`` (CloudWatch's units) and dimensions
    as keyword arguments (``ctx.metrics.count("orders", region="eu")``)."""

    __slots__ = ("_ctx", "pending")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        # (name, value, unit, kind, dimensions), in the order they were recorded.
        self.pending: list[Datapoint] = []

    def _add(
        self, kind: str, name: str, value: float, unit: str, dimensions: dict[str, Any]
    ) -> None:
        # The hot path is one datapoint whose name, unit and dimension names were seen before:
        # set lookups and one comparison chain (NaN and the infinities fail it too).
        if name not in _checked_names:
            _name(name, "metric")
        if unit not in UNITS:
            raise MetricError(
                f"metric {name!r}: unit {unit!r} is not one CloudWatch takes; expected one of "
                + ", ".join(sorted(UNITS))
            )
        kind_of_value = type(value)
        if not (
            (kind_of_value is int or kind_of_value is float)
            and (value == 0 or MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE)
        ):
            _value(name, value)
        if dimensions:
            _dimensions(name, dimensions)
        self.pending.append((name, value, unit, kind, dimensions))

    def count(self, name: str, value: float = 1, *, unit: str = "Count", **dimensions: str) -> None:
        """Add `value` (default 1) to counter `name`."""
        self._add("count", name, value, unit, dimensions)

    def gauge(self, name: str, value: float, *, unit: str = "None", **dimensions: str) -> None:
        """Record the current value of `name`."""
        self._add("gauge", name, value, unit, dimensions)

    def timing(
        self, name: str, value: float, *, unit: str = "Milliseconds", **dimensions: str
    ) -> None:
        """Record a duration (milliseconds unless `unit` says otherwise)."""
        self._add("timing", name, value, unit, dimensions)

    def flush(self) -> None:
        """Write the pending datapoints in the cloud's form, and forget them."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        import sys

        if "opentelemetry" in sys.modules:
            from polyfn._otel import record_metrics

            record_metrics(pending)
        if self._ctx.provider == "aws":
            from polyfn._observe import dumps, write_line

            for entry in emf_entries(pending, _namespace()):
                write_line(dumps(entry))
            return
        log = self._ctx.log
        for name, value, unit, kind, dimensions in pending:
            log.info(
                "metric %s",
                name,
                extra={
                    "metric": {
                        "name": name,
                        "value": value,
                        "unit": unit,
                        "kind": kind,
                        "dimensions": dimensions,
                    }
                },
            )


def _namespace() -> str:
    import os

    return os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE


def emf_entries(
    pending: list[Datapoint],
    namespace: str,
    timestamp_ms: int | None = None,
) -> list[dict[str, Any]]:
    """The EMF documents for `pending`: one per dimension set and chunk of `EMF_MAX_METRICS`
    metrics; each metric's values are an array of at most `EMF_MAX_VALUES`."""
    import time

    stamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    groups: dict[tuple[tuple[str, str], ...], dict[str, tuple[str, list[float]]]] = {}
    for name, value, unit, _kind, given in pending:
        dimensions = tuple(sorted(given.items()))
        metrics = groups.setdefault(dimensions, {})
        if name in metrics:
            metrics[name][1].append(value)
        else:
            metrics[name] = (unit, [value])
    entries: list[dict[str, Any]] = []
    for dimensions, metrics in groups.items():
        items: list[tuple[str, str, list[float]]] = []
        for name, (unit, values) in metrics.items():
            for start in range(0, len(values), EMF_MAX_VALUES):
                items.append((name, unit, values[start : start + EMF_MAX_VALUES]))
        # A name may appear once per document: a second chunk of values goes to the next one.
        while items:
            chunk: list[tuple[str, str, list[float]]] = []
            seen: set[str] = set()
            rest: list[tuple[str, str, list[float]]] = []
            for item in items:
                if item[0] in seen or len(chunk) == EMF_MAX_METRICS:
                    rest.append(item)
                else:
                    seen.add(item[0])
                    chunk.append(item)
            items = rest
            entry: dict[str, Any] = {
                "_aws": {
                    "Timestamp": stamp,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": namespace,
                            "Dimensions": [[key for key, _ in dimensions]],
                            "Metrics": [{"Name": n, "Unit": u} for n, u, _ in chunk],
                        }
                    ],
                }
            }
            entry.update(dimensions)
            for name, _unit, values in chunk:
                entry[name] = values  # an array even for one value, as Powertools writes it
            entries.append(entry)
    return entries
