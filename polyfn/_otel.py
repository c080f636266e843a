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


# faas.trigger of each polyfn trigger kind (OpenTelemetry semantic conventions for FaaS spans:
# https://opentelemetry.io/docs/specs/semconv/faas/faas-spans/), and cloud.provider's values
# (https://opentelemetry.io/docs/specs/semconv/attributes-registry/cloud/).
FAAS_TRIGGER = {"http": "http", "queue": "pubsub", "schedule": "timer", "storage": "datasource"}
CLOUD_PROVIDER = {"aws": "aws", "azure": "azure", "gcp": "gcp"}


class InvocationSpan:
    """The span of one invocation, current while its handler runs."""

    __slots__ = ("span", "token")

    def __init__(self, span: Any, token: object) -> None:
        self.span = span
        self.token = token

    def end(self, *, failed: bool, status: int | None = None) -> None:
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        if status is not None:
            self.span.set_attribute("http.response.status_code", status)
        if failed:
            self.span.set_status(Status(StatusCode.ERROR))
        self.span.end()
        context.detach(self.token)  # type: ignore[arg-type]


def start_span(ctx: Any, kind: str, request: Any = None) -> InvocationSpan:
    """Start the invocation's span as a child of the caller's span (what `ctx.trace` read), with
    the FaaS attributes; `ctx.trace` then names this span, so log lines and outgoing messages
    carry the ids the tracing backend sees."""
    from opentelemetry import context, trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

    from polyfn._trace import Trace

    ours = ctx.trace
    parent = None
    if ours.parent_id is not None:
        remote = SpanContext(
            int(ours.trace_id, 16),
            int(ours.parent_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED if ours.sampled else TraceFlags.DEFAULT),
        )
        parent = trace.set_span_in_context(NonRecordingSpan(remote))
    attributes: dict[str, Any] = {
        "faas.trigger": FAAS_TRIGGER.get(kind, "other"),
        "faas.invocation_id": ctx.invocation_id,
        "faas.name": ctx.function_name,
        "faas.coldstart": bool(ctx.cold_start),
    }
    provider = CLOUD_PROVIDER.get(ctx.provider)
    if provider is not None:
        attributes["cloud.provider"] = provider
    if request is not None:
        attributes["http.request.method"] = request.method
        attributes["url.path"] = request.path
    span = trace.get_tracer("polyfn").start_span(
        ctx.function_name or kind,
        context=parent,
        kind=SpanKind.SERVER if kind == "http" else SpanKind.CONSUMER,
        attributes=attributes,
    )
    made = span.get_span_context()
    # The API's no-op tracer (OpenTelemetry imported, no SDK configured) hands back the parent's
    # own span: this invocation's span is then still polyfn's.
    if made.is_valid and (ours.parent_id is None or made.span_id != int(ours.parent_id, 16)):
        ctx._trace = Trace(
            f"{made.trace_id:032x}",
            f"{made.span_id:016x}",
            parent_id=ours.parent_id,
            sampled=bool(made.trace_flags & TraceFlags.SAMPLED),
        )
    token = context.attach(trace.set_span_in_context(span))
    return InvocationSpan(span, token)
