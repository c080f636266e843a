"""`polyfn events` samples, run through each cloud's real adapter entry by `polyfn invoke`."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from tests.cli._run import SHOP, invoke_sample, run, seen, write_event

if TYPE_CHECKING:
    from pathlib import Path

# (provider, trigger, function, --set overrides, what the handler must have seen)
CASES = [
    (
        "aws",
        "http-rest",
        "get_order",
        ["query=tag=a&tag=b"],
        ("http", "aws", "GET", "42", ["a", "b"], b""),
    ),
    (
        "aws",
        "http-api",
        "get_order",
        ["method=POST", "body={}"],
        ("http", "aws", "POST", "42", [], b"{}"),
    ),
    (
        "aws",
        "http-api-v1",
        "get_order",
        ["query=tag=a&tag=b"],
        ("http", "aws", "GET", "42", ["a", "b"], b""),
    ),
    ("aws", "function-url", "get_order", [], ("http", "aws", "GET", "42", [], b"")),
    ("aws", "alb", "get_order", ["query=tag=x%20y"], ("http", "aws", "GET", "42", ["x y"], b"")),
    (
        "aws",
        "alb-multi",
        "get_order",
        ["query=tag=a&tag=b"],
        ("http", "aws", "GET", "42", ["a", "b"], b""),
    ),
    ("aws", "schedule", "nightly", [], ("schedule", "aws", "nightly")),
    ("aws", "scheduler", "nightly", [], ("schedule", "aws", "nightly")),
    (
        "aws",
        "s3",
        "on_created",
        [],
        ("storage", "aws", "created", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "aws",
        "s3-sqs",
        "on_change",
        ["kind=deleted"],
        ("storage", "aws", "deleted", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "aws",
        "s3-sns",
        "on_created",
        [],
        ("storage", "aws", "created", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "aws",
        "s3-eventbridge",
        "on_change",
        [],
        ("storage", "aws", "created", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "aws",
        "sqs",
        "on_order",
        ["attr.source=cli", "delivery_count=3"],
        ("queue", "aws", '{"order_id": 42}', {"source": "cli"}, 3),
    ),
    (
        "aws",
        "sqs-fifo",
        "on_ticket",
        ["queue=tickets", "group=g1"],
        ("queue", "aws", '{"order_id": 42}', "g1"),
    ),
    ("aws", "sns", "on_order", ["attr.k=v"], ("queue", "aws", '{"order_id": 42}', {"k": "v"}, 1)),
    (
        "aws",
        "sns",
        "on_notice",
        ["queue=notices", "attr.k=v"],
        ("subscribe", "aws", "notices", '{"order_id": 42}', {"k": "v"}),
    ),
    (
        "azure",
        "http",
        "get_order",
        ["query=tag=a&tag=b"],
        ("http", "azure", "GET", "42", ["a", "b"], b""),
    ),
    ("azure", "timer", "nightly", [], ("schedule", "azure", "nightly")),
    (
        "azure",
        "blob",
        "on_created",
        [],
        ("storage", "azure", "created", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "azure",
        "eventgrid-blob",
        "on_change",
        ["kind=deleted"],
        ("storage", "azure", "deleted", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "azure",
        "queue",
        "on_order",
        ["delivery_count=2"],
        ("queue", "azure", '{"order_id": 42}', {}, 2),
    ),
    (
        "azure",
        "servicebus",
        "on_ticket",
        ["queue=tickets", "group=g1"],
        ("queue", "azure", '{"order_id": 42}', "g1"),
    ),
    (
        "azure",
        "servicebus",
        "on_notice",
        ["queue=notices", "attr.k=v"],
        ("subscribe", "azure", "notices", '{"order_id": 42}', {"k": "v"}),
    ),
    (
        "gcp",
        "http",
        "get_order",
        ["query=tag=a&tag=b"],
        ("http", "gcp", "GET", "42", ["a", "b"], b""),
    ),
    ("gcp", "scheduler-http", "nightly", [], ("schedule", "gcp", "nightly")),
    (
        "gcp",
        "storage",
        "on_change",
        ["kind=deleted"],
        ("storage", "gcp", "deleted", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "gcp",
        "storage-legacy",
        "on_created",
        [],
        ("storage", "gcp", "created", "uploads", "incoming/report 2026+q1.csv"),
    ),
    (
        "gcp",
        "pubsub",
        "on_order",
        ["attr.k=v", "delivery_count=4"],
        ("queue", "gcp", '{"order_id": 42}', {"k": "v"}, 4),
    ),
    (
        "gcp",
        "pubsub",
        "on_notice",
        ["queue=notices", "attr.k=v"],
        ("subscribe", "gcp", "notices", '{"order_id": 42}', {"k": "v"}),
    ),
]


@pytest.mark.parametrize(
    ("provider", "trigger", "function", "overrides", "expected"),
    CASES,
    ids=[f"{c[0]}-{c[1]}" for c in CASES],
)
def test_every_sample_runs_through_the_real_adapter(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    provider: str,
    trigger: str,
    function: str,
    overrides: list[str],
    expected: tuple[object, ...],
) -> None:
    seen_before = len(seen()) if "cli_shop" in __import__("sys").modules else 0
    code, out, err = invoke_sample(capsys, tmp_path, SHOP, function, provider, trigger, overrides)
    assert code == 0, err
    result = json.loads(out)
    assert len(seen()) == seen_before + 1
    got = seen()[-1]
    assert got[: len(expected)] == expected
    if got[0] == "schedule":
        # the scheduled time travelled: every cloud's sample is due at 2026-01-15T02:00:00Z
        assert got[3] == datetime(2026, 1, 15, 2, 0, tzinfo=UTC), got[3]
    if expected[0] == "http":
        _assert_http_result(provider, trigger, result)


def _assert_http_result(provider: str, trigger: str, result: dict[str, object]) -> None:
    """The native answer carries the JSON body and both Set-Cookie values (one where the cloud
    can carry only one: single-value ALB)."""
    if provider == "aws":
        body = result["body"]
        cookies = (
            result.get("cookies")
            or (result.get("multiValueHeaders") or {}).get("Set-Cookie")
            or [(result.get("headers") or {}).get("Set-Cookie")]
        )  # type: ignore[union-attr]
        assert result["statusCode"] == 200
    elif provider == "azure":
        http = result["returnValue"]["http"]  # type: ignore[index]
        body = http["body"]["string"]  # a text body reads as text, not base64
        cookies = http["cookies"]
        assert result["result"] == {"status": "Success"}
    else:
        body, cookies = result["body"], result["headers"]["Set-Cookie"]  # type: ignore[index]
        assert result["status"] == 200
    assert json.loads(body) == {"id": "42"}  # type: ignore[arg-type]
    assert cookies == (["b=2; Path=/"] if trigger == "alb" else ["a=1; Path=/", "b=2; Path=/"])


def test_a_failing_handler_prints_the_native_failure_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for provider, trigger in (("aws", "sns"), ("azure", "queue"), ("gcp", "pubsub")):
        code, out, _ = run(capsys, "events", provider, trigger, "--set", "body=boom")
        event_file = write_event(tmp_path, json.loads(out))
        code, out, err = run(
            capsys, "invoke", SHOP, "on_order", "--provider", provider, "--event", event_file
        )
        assert code == 1, (provider, out, err)
        result = json.loads(out)
        if provider == "aws":
            assert result["errorType"] == "RuntimeError" and result["errorMessage"] == "boom"
        elif provider == "azure":
            assert result["result"]["status"] == "Failure"
            assert "boom" in result["result"]["exception"]["message"]
        else:
            assert result["status"] == 500


def test_an_sqs_batch_failure_is_reported_per_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "events", "aws", "sqs", "--set", "body=boom", "--set", "id=m-1")
    code, out, err = run(
        capsys,
        "invoke",
        SHOP,
        "on_order",
        "--provider",
        "aws",
        "--event",
        write_event(tmp_path, json.loads(out)),
    )
    assert code == 0, err  # the invocation succeeded; the one message is reported failed
    assert json.loads(out) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_azure_prints_a_text_body_as_text_and_a_binary_one_as_base64(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from .test_sample_paths import PATHS_APP

    bodies = {}
    for path in ("/p/ünï", "/bytes"):
        function = "bytes_out" if path == "/bytes" else "show_path"
        code, out, err = invoke_sample(
            capsys, tmp_path, PATHS_APP, function, "azure", "http", [f"path={path}"]
        )
        assert code == 0, err
        bodies[path] = json.loads(out)["returnValue"]["http"]["body"]
    assert bodies["/p/ünï"] == {"string": '{"path":"/p/ünï"}'}
    assert base64.b64decode(bodies["/bytes"]["bytes"]) == bytes(range(256))
