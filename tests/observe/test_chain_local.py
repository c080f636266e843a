"""Locally (`polyfn.testing.Client`, as `polyfn serve`): a request's trace continues through the
queue into the worker; every log line of both functions carries the same trace id."""

from __future__ import annotations

from typing import Any

from polyfn.testing import Client

from ._chain import TRACE_ID, TRACEPARENT, chain_app


def test_one_trace_from_request_through_queue_to_worker(lines: Any) -> None:
    app, seen = chain_app("orders")
    with Client(app) as client:
        resp = client.post("/orders", headers={"traceparent": TRACEPARENT})
        assert resp.status == 200
        client.drain()
    assert Client.json(resp) == {"trace": TRACE_ID}
    (delivered,) = seen
    assert delivered["trace"].trace_id == TRACE_ID
    sender_span = delivered["attributes"]["traceparent"].split("-")[2]
    assert delivered["trace"].parent_id == sender_span != "b7ad6b7169203331"
    logged = lines()
    functions = {line.get("function_name") or line.get("function") for line in logged}
    assert {"place", "work"} <= functions
    assert {line["trace_id"] for line in logged} == {TRACE_ID}, logged


def test_a_malformed_traceparent_starts_a_new_trace(lines: Any) -> None:
    app, seen = chain_app("orders")
    with Client(app) as client:
        resp = client.post("/orders", headers={"traceparent": "00-zz-not-a-trace"})
        client.drain()
    assert resp.status == 200
    trace = Client.json(resp)["trace"]
    assert len(trace) == 32 and trace != TRACE_ID
    assert seen[0]["trace"].trace_id == trace
