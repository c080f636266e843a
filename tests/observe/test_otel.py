"""With OpenTelemetry configured, each invocation is a span: the caller's span as parent, the
FaaS semantic-convention attributes, and `ctx.trace` naming the span the exporter sees."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from polyfn import App, Context, HttpRequest, QueueMessage

from ._chain import TRACE_ID, TRACEPARENT


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Spans of an SDK tracer provider of the test's own (the process's global one may already
    be set by another library, and can be set only once)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer", lambda name, *a, **k: provider.get_tracer(name))
    return exporter


def test_each_invocation_is_a_span_child_of_the_callers(spans: Any) -> None:
    app = App("shop")
    seen: dict[str, Any] = {}

    @app.http("/orders")
    def place(req: HttpRequest, ctx: Context) -> Any:
        seen["trace"] = ctx.trace
        return {"ok": True}

    @app.queue("orders")
    def work(msg: QueueMessage, ctx: Context) -> None:
        raise RuntimeError("no")

    req = HttpRequest("GET", "/orders", headers={"traceparent": TRACEPARENT})
    assert app.handle_http(req, Context("aws", "", "inv-1")).status == 200
    with pytest.raises(RuntimeError):
        app.invoke(
            app.function("work"),
            QueueMessage("m", b"x", queue="orders"),
            Context("gcp", "", "inv-2"),
        )
    http_span, queue_span = spans.get_finished_spans()
    assert http_span.context.trace_id == int(TRACE_ID, 16)
    assert http_span.parent.span_id == int(TRACEPARENT.split("-")[2], 16)
    assert f"{http_span.context.span_id:016x}" == seen["trace"].span_id
    assert http_span.kind == trace.SpanKind.SERVER
    assert http_span.attributes["faas.trigger"] == "http"
    assert http_span.attributes["faas.invocation_id"] == "inv-1"
    assert http_span.attributes["cloud.provider"] == "aws"
    assert http_span.attributes["http.response.status_code"] == 200
    assert isinstance(http_span.attributes["faas.coldstart"], bool)
    assert queue_span.attributes["faas.trigger"] == "pubsub"
    assert queue_span.kind == trace.SpanKind.CONSUMER
    assert queue_span.status.status_code == trace.StatusCode.ERROR


def test_without_an_sdk_the_invocation_keeps_its_own_span(monkeypatch: pytest.MonkeyPatch) -> None:
    from polyfn._otel import start_span

    ctx = Context("local", "f", "i")
    ctx._message = HttpRequest("GET", "/", headers={"traceparent": TRACEPARENT})
    with_noop = trace.NoOpTracerProvider()
    monkeypatch.setattr(trace, "get_tracer", lambda name, *a, **k: with_noop.get_tracer(name))
    ours = ctx.trace
    start_span(ctx, "http").end(failed=False)
    assert ctx.trace is ours and ours.parent_id == TRACEPARENT.split("-")[2] != ours.span_id
