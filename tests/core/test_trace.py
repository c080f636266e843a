"""W3C trace context and its conversions to X-Ray and Google's header, exact both ways."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyfn._trace import (
    Trace,
    from_headers,
    parse_cloud_trace,
    parse_traceparent,
    parse_xray,
)

hex32 = st.text("0123456789abcdef", min_size=32, max_size=32).filter(lambda s: s != "0" * 32)
hex16 = st.text("0123456789abcdef", min_size=16, max_size=16).filter(lambda s: s != "0" * 16)

# The examples in the specifications themselves.
W3C_EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
XRAY_EXAMPLE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_the_specifications_examples() -> None:
    w3c = parse_traceparent(W3C_EXAMPLE)
    assert w3c is not None
    assert (w3c.trace_id, w3c.span_id, w3c.sampled) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        True,
    )
    assert w3c.traceparent() == W3C_EXAMPLE
    xray = parse_xray(XRAY_EXAMPLE)
    assert xray is not None
    assert xray.trace_id == "5759e988bd862e3fe1be46a994272793"
    assert xray.xray_trace_id == "1-5759e988-bd862e3fe1be46a994272793"
    assert xray.xray_header() == XRAY_EXAMPLE
    assert xray.traceparent() == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"


@given(hex32, hex16, st.booleans())
def test_every_form_round_trips_exactly(trace_id: str, span_id: str, sampled: bool) -> None:
    trace = Trace(trace_id, span_id, sampled=sampled)
    for parse, render in (
        (parse_traceparent, Trace.traceparent),
        (parse_xray, Trace.xray_header),
        (parse_cloud_trace, Trace.cloud_trace_context),
    ):
        back = parse(render(trace))
        assert back == trace, render(trace)


def test_google_span_ids_are_decimal() -> None:
    trace = parse_cloud_trace("105445aa7843bc8bf206b12000100000/1;o=1")
    assert trace is not None
    assert (trace.span_id, trace.sampled) == ("0000000000000001", True)
    assert Trace("105445aa7843bc8bf206b12000100000", "ffffffffffffffff").cloud_trace_context() == (
        "105445aa7843bc8bf206b12000100000/18446744073709551615;o=0"
    )


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        42,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # 00 has 4 fields
        "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",  # short
    ],
)
def test_invalid_traceparents_start_nothing(value: object) -> None:
    assert parse_traceparent(value) is None


def test_a_later_version_may_carry_more_fields() -> None:
    trace = parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what")
    assert trace is not None and trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    "value",
    [
        "Root=2-5759e988-bd862e3fe1be46a994272793",
        "Root=1-5759e98-bd862e3fe1be46a994272793",
        "Parent=53995c3f42cd8ad8;Sampled=1",
        "garbage",
        "Root=1-00000000-000000000000000000000000",
    ],
)
def test_invalid_xray_headers(value: str) -> None:
    assert parse_xray(value) is None


def test_xray_without_parent_keeps_the_trace_with_a_new_span() -> None:
    trace = parse_xray("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?")
    assert trace is not None
    assert trace.trace_id == "5759e988bd862e3fe1be46a994272793"
    assert len(trace.span_id) == 16 and not trace.sampled


def test_continue_from_makes_a_child_span() -> None:
    parent = parse_traceparent(W3C_EXAMPLE)
    child = Trace.continue_from(parent)
    assert parent is not None
    assert child.trace_id == parent.trace_id
    assert child.parent_id == parent.span_id and child.span_id != parent.span_id
    assert child.sampled
    root = Trace.continue_from(None)
    assert root.parent_id is None and len(root.trace_id) == 32


def test_from_headers_prefers_w3c_and_falls_back() -> None:
    both = from_headers(traceparent=W3C_EXAMPLE, xray=XRAY_EXAMPLE)
    assert both is not None and both.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    fallback = from_headers(traceparent="bogus", xray=XRAY_EXAMPLE)
    assert fallback is not None and fallback.trace_id == "5759e988bd862e3fe1be46a994272793"
    assert from_headers(traceparent="bogus", cloud_trace="nope") is None
