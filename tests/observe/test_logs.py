"""`ctx.log` writes each cloud's native shape; every invocation ends with one closing line."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

import pytest
from polyfn_aws._context import to_context
from polyfn_aws._queue import _one_queue

from polyfn import App, Context, HttpRequest, QueueMessage
from polyfn._context import _COLD
from polyfn._logs import TextFormatter

from .conftest import capture_lines

XRAY = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def lambda_context() -> Any:
    """The context the Lambda runtime hands the handler (conformance's one emulation of it)."""
    from conformance.hosts.aws import lambda_context as runtime_context

    return runtime_context(REQUEST_ID, function="orders")


def _app() -> App:
    app = App("shop")

    @app.http("/orders/{order_id}")
    def get_order(req: HttpRequest, ctx: Context) -> Any:
        ctx.log.info("order read", extra={"order_id": req.path_params["order_id"]})
        if req.path_params["order_id"] == "boom":
            raise ValueError("no such order")
        return {"ok": True}

    @app.queue("orders")
    def on_order(msg: QueueMessage, ctx: Context) -> None:
        if msg.body == b"bad":
            raise RuntimeError("bad order")

    return app


def test_aws_line_has_lambdas_fields_and_powertools_names(
    lines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same invocation through polyfn and Powertools' Logger: the keys both write carry the same
    values. They differ in: the request id (Lambda's own `requestId`; Powertools writes
    `function_request_id`), the timestamp (RFC 3339 with a Z as Lambda writes it; Powertools'
    "2026-12-03 09:12:03,329+0000"), and fields polyfn does not know or add (`service`,
    `location`, `function_arn`, `function_memory_size`; `logger` is Lambda's)."""
    from aws_lambda_powertools import Logger

    monkeypatch.setenv("_X_AMZN_TRACE_ID", XRAY)
    sink = io.StringIO()
    # A service name of its own: Powertools sets up a logger of one name once per process.
    service = f"orders-{uuid.uuid4().hex[:8]}"
    powertools = Logger(service=service, logger_handler=logging.StreamHandler(sink))

    @powertools.inject_lambda_context
    def handler(event: Any, context: Any) -> None:
        powertools.info("order placed", extra={"order_id": "o-1"})

    handler({}, lambda_context())
    theirs = json.loads(sink.getvalue().splitlines()[-1])

    ctx = to_context(lambda_context(), "orders")
    ctx.cold_start = theirs["cold_start"]  # Powertools' is its own, once per process
    ctx.log.info("order placed", extra={"order_id": "o-1"})
    ours = lines()[-1]
    overlap = set(ours) & set(theirs)
    assert overlap >= {"level", "message", "timestamp", "xray_trace_id", "cold_start",
                       "function_name", "order_id"}  # fmt: skip
    for key in overlap - {"timestamp"}:
        assert ours[key] == theirs[key], key
    assert ours["requestId"] == theirs["function_request_id"] == REQUEST_ID
    assert ours["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert ours["timestamp"].endswith("Z") and ours["timestamp"][10] == "T"


def test_aws_closing_lines_are_the_same_on_both_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The template that writes AWS's closing lines straight to the stream, and `aws_entry`
    through `logging`: the same keys in the same order, the same values but the time."""
    monkeypatch.setenv("_X_AMZN_TRACE_ID", XRAY)
    app = _app()
    written = {}
    for route in ("direct", "logging"):
        _COLD[0] = True  # each route as in a fresh process
        with capture_lines(route) as read:
            ctx = to_context(lambda_context(), "")
            app.handle_http(HttpRequest("GET", "/orders/1"), ctx)
            _one_queue(app, None, [_sqs_record("m1", b"ok"), _sqs_record("m2", b"bad")],
                       lambda_context(), "orders")  # fmt: skip
        written[route] = [line for line in read() if line["message"] == "invocation finished"]
    direct, through_logging = written["direct"], written["logging"]
    assert [list(line) for line in direct] == [list(line) for line in through_logging]
    for ours, theirs in zip(direct, through_logging, strict=True):
        for key in set(ours) - {"timestamp", "duration_ms"}:
            assert ours[key] == theirs[key], key
    assert direct[0]["status"] == 200 and direct[0]["xray_trace_id"] == XRAY[5:40]
    assert (direct[1]["acknowledged"], direct[1]["failed"]) == (1, 1)


def _sqs_record(message_id: str, body: bytes) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "body": body.decode(),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795773600000"},
        "messageAttributes": {},
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
    }


def test_a_level_that_drops_info_writes_no_closing_line(lines: Any) -> None:
    logger = logging.getLogger("polyfn")
    logger.setLevel(logging.WARNING)
    try:
        _app().handle_http(HttpRequest("GET", "/orders/1"), Context("local", "", "i"))
    finally:
        logger.setLevel(logging.INFO)
    assert lines() == []


def test_aws_error_is_written_as_lambda_writes_it(lines: Any) -> None:
    ctx = to_context(lambda_context(), "orders")
    try:
        raise KeyError("sku")
    except KeyError:
        ctx.log.exception("lookup failed")
    line = lines()[-1]
    assert (line["level"], line["errorType"], line["errorMessage"]) == (
        "ERROR",
        "KeyError",
        "'sku'",
    )
    assert isinstance(line["stackTrace"], list) and "raise KeyError" in line["stackTrace"][-1]


def test_gcp_line_has_cloud_loggings_special_fields(
    lines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polyfn_gcp._context import make_context

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    ctx = make_context(
        "orders",
        "exec-1",
        trace=None,
        started=0.0,
        raw=None,
        trace_headers={"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
    )
    try:
        raise ValueError("bad")
    except ValueError:
        ctx.log.exception("failed", extra={"order_id": "o-1"})
    line = lines()[-1]
    assert line["severity"] == "ERROR"
    assert line["logging.googleapis.com/trace"] == (
        "projects/my-project/traces/105445aa7843bc8bf206b12000100000"
    )
    assert line["logging.googleapis.com/spanId"] == ctx.trace.span_id
    assert ctx.trace.parent_id == "0000000000000001"
    assert line["logging.googleapis.com/trace_sampled"] is True
    assert line["logging.googleapis.com/labels"] == {
        "function_name": "orders",
        "execution_id": "exec-1",
    }
    # Error Reporting reads the stack from `message` or `stack_trace`.
    assert line["message"].startswith("failed\nTraceback (most recent call last):")
    assert line["stack_trace"].endswith("ValueError: bad")
    assert line["order_id"] == "o-1" and "level" not in line


def test_gcp_http_closing_line_carries_http_request(
    lines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polyfn_gcp._context import make_context

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    ctx = make_context("get_order", "e-2", trace=None, started=0.0, raw=None)
    req = HttpRequest("GET", "/orders/7", headers={"user-agent": "curl/8"}, source_ip="1.2.3.4")
    assert _app().handle_http(req, ctx).status == 200
    closing = lines()[-1]
    assert closing["message"] == "invocation finished" and closing["severity"] == "INFO"
    request = closing["httpRequest"]
    assert (request["requestMethod"], request["requestUrl"], request["status"]) == (
        "GET",
        "/orders/7",
        200,
    )
    assert (request["userAgent"], request["remoteIp"]) == ("curl/8", "1.2.3.4")
    assert request["latency"].endswith("s") and closing["duration_ms"] >= 0


def test_azure_records_reach_the_workers_root_handler_with_dimensions(
    root_records: list[logging.LogRecord], lines: Any
) -> None:
    from polyfn_azure._context import make_context

    class TraceContext:
        trace_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    class AzureContext:
        invocation_id = "inv-1"
        trace_context = TraceContext()

    ctx = make_context("orders", AzureContext())
    ctx.log.warning("slow", extra={"order_id": "o-9"})
    record = root_records[-1]
    assert record.levelname == "WARNING" and record.getMessage() == "slow"
    dimensions = record.custom_dimensions  # type: ignore[attr-defined]
    assert dimensions["invocation_id"] == "inv-1" and dimensions["order_id"] == "o-9"
    assert dimensions["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert record.trace_id == dimensions["trace_id"]  # type: ignore[attr-defined]
    assert lines() == []  # not printed by polyfn's own handler as well


def test_unserialisable_extras_are_written_as_repr(lines: Any) -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<Thing>"

    loop: list[Any] = []
    loop.append(loop)
    ctx = Context("local", "f", "i-1")
    ctx.log.info("odd", extra={"thing": Thing(), "nan": float("nan"), "loop": loop, "n": 1})
    line = lines()[-1]
    assert (line["thing"], line["nan"], line["n"]) == ("<Thing>", "nan", 1)
    assert line["loop"] == "[[...]]"


def test_extra_naming_a_record_attribute_keeps_the_line(lines: Any) -> None:
    Context("local", "f", "i").log.info("m", extra={"message": "x", "name": "y"})
    line = lines()[-1]
    assert (line["message"], line["message_"], line["name_"]) == ("m", "x", "y")


def test_first_invocation_is_the_cold_start_and_each_has_one_closing_line(
    lines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _COLD[0] = True  # as in a fresh process (the first invocation below sets it back)
    app = _app()
    for order in ("1", "2", "boom"):
        app.handle_http(HttpRequest("GET", f"/orders/{order}"), Context("local", "", order))
    closing = [line for line in lines() if line["message"] == "invocation finished"]
    assert [c["status"] for c in closing] == [200, 200, 500]
    assert [c["cold_start"] for c in closing] == [True, False, False]
    assert all(c["level"] == "INFO" and c["duration_ms"] >= 0 for c in closing)


def test_message_outcomes(lines: Any) -> None:
    app = _app()
    fn = app.function("on_order")
    app.invoke(fn, QueueMessage("m1", b"ok", queue="orders"), Context("local", "", "a"))
    with pytest.raises(RuntimeError):
        app.invoke(fn, QueueMessage("m2", b"bad", queue="orders"), Context("local", "", "b"))
    closing = [line for line in lines() if line["message"] == "invocation finished"]
    assert [(c["trigger"], c["outcome"]) for c in closing] == [
        ("queue", "acknowledged"),
        ("queue", "failed"),
    ]


def test_text_format_is_one_readable_line() -> None:
    ctx = Context("local", "orders", "i-1")
    record = logging.LogRecord("polyfn", logging.INFO, "", 0, "placed %s", ("o-1",), None)
    record.__dict__.update({"function_name": "orders", "_polyfn_ctx": ctx, "amount": 3})
    text = TextFormatter().format(record)
    assert " INFO    orders  placed o-1  amount=3 trace=" + ctx.trace.trace_id in text
