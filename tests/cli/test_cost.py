"""`polyfn cost`: the clouds' own worked pricing examples, reproduced to the cent, and bad profiles.

Each example is run through the command (the profile file, the app's declared memory, the
adapter's dated table) and compared with the figures its pricing page publishes.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from polyfn._context import JsonFormatter
from polyfn._cost import Rate, Usage, profile_usages, read_profile
from polyfn._local._loader import load_app
from tests.cli._run import run

EXAMPLES = str(Path(__file__).parent / "apps" / "cost_examples.py")


def cost(capsys: Any, tmp_path: Path, functions: dict[str, Any], *flags: str) -> dict[str, Any]:
    """The bills `polyfn cost --json` prints for a profile of `functions`, by (provider, plan)."""
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"functions": functions}))
    code, out, err = run(capsys, "cost", EXAMPLES, "--profile", str(profile), "--json", *flags)
    assert code == 0, err
    return {(b["provider"], b["plan"]): b for b in json.loads(out)["bills"]}


def amounts(bill: dict[str, Any]) -> dict[str, str | None]:
    return {line["item"]: line["amount"] for line in bill["lines"]}


# The clouds' worked examples: (the function whose declared memory the example states, its
# traffic, flags, the bill, the published charges, the published total). Each cites its page.
PUBLISHED = {
    # https://aws.amazon.com/lambda/pricing/ (as of 2026, "Example 1: Mobile application
    # backend"): 3 million requests a month of 120 ms, 1,536 MB on x86, free tier applied:
    # 540,000 GB-s less 400,000 free = 140,000 GB-s at $0.0000166667 -> $2.33; 2 million billable
    # requests -> $0.40; total $2.73. It is the profile of DESIGN.md's example.
    "lambda-2026-mobile-backend": (
        {"lambda_1536": {"invocations": 3_000_000, "duration_ms": 120}},
        (),
        ("aws", "x86_64"),
        {"Lambda requests": "0.40", "Lambda compute (x86_64)": "2.33"},
        "2.73",
    ),
    # https://aws.amazon.com/lambda/pricing/ (as of 2026, "Example 2: Enriching streaming
    # telemetry with additional metadata", priced without the free tier): 10,000 vehicles once an
    # hour for 31 days = 7,440,000 invocations of 2 s at 1 GB on x86: requests $1.488 ~= $1.49;
    # 14.88 million GB-s at $0.0000166667 -> $248.00; total $249.49.
    "lambda-2026-telemetry": (
        {"lambda_1024": {"invocations": 7_440_000, "duration_ms": 2000}},
        ("--no-free-tier",),
        ("aws", "x86_64"),
        {"Lambda requests": "1.49", "Lambda compute (x86_64)": "248.00"},
        "249.49",
    ),
    # https://aws.amazon.com/lambda/pricing/ ("Example 2" of the page's version that billed in
    # 100 ms steps, before December 2020; US East, free tier applied): 128 MB, 30 million
    # executions a month of 200 ms: compute 750,000 GB-s less 400,000 free = 350,000 GB-s ->
    # $5.83; requests 29 million billable -> $5.80; total $11.63. Today's rate gives the same.
    "lambda-2020-example-2": (
        {"lambda_128": {"invocations": 30_000_000, "duration_ms": 200}},
        (),
        ("aws", "x86_64"),
        {"Lambda requests": "5.80", "Lambda compute (x86_64)": "5.83"},
        "11.63",
    ),
    # https://azure.microsoft.com/pricing/details/functions/ (its Consumption plan pricing example;
    # not re-read when this test was written, as the searchable copy of the page stops before its
    # examples): observed memory 512 MB, 3,000,000 executions of one second: 1.5 million GB-s less
    # the 400,000 GB-s grant at $0.000016 -> $17.60; 2 million billable executions at $0.20 per
    # million -> $0.40; total $18.00.
    "azure-consumption": (
        {"azure_512": {"invocations": 3_000_000, "duration_ms": 1000}},
        (),
        ("azure", "consumption"),
        {"Executions": "0.40", "Execution time": "17.60"},
        "18.00",
    ),
    # https://cloud.google.com/functions/pricing-1stgen ("Simple event-driven function"; not
    # re-read when this test was written, as the searchable copies of the page stop before it):
    # 128 MB and 200 MHz, 10 million invocations a month of 300 ms, Google APIs only (no billable
    # egress): invocations 8 million billable -> $3.20; 375,000 GB-s, under the 400,000 free ->
    # $0.00; 600,000 GHz-s less 200,000 free -> $4.00; networking $0.00; total $7.20 a month.
    "cloud-functions-1st-gen-event-driven": (
        {"gcf_128": {"invocations": 10_000_000, "duration_ms": 300}},
        (),
        ("gcp", "gen1"),
        {
            "Invocations": "3.20",
            "Compute (memory)": "0.00",
            "Compute (CPU)": "4.00",
            "Networking egress": "0.00",
        },
        "7.20",
    ),
}


@pytest.mark.parametrize("example", PUBLISHED)
def test_published_pricing_example_to_the_cent(capsys: Any, tmp_path: Path, example: str) -> None:
    functions, flags, plan, charges, published_total = PUBLISHED[example]
    bill = cost(capsys, tmp_path, functions, *flags, "--provider", plan[0])[plan]
    assert amounts(bill) == charges
    assert bill["total"] == published_total
    assert bill["sources"][0] in {
        "https://aws.amazon.com/lambda/pricing/",
        "https://azure.microsoft.com/pricing/details/functions/",
        "https://cloud.google.com/functions/pricing-1stgen",
    }


def test_each_cloud_prices_its_deployed_plan_first(capsys: Any, tmp_path: Path) -> None:
    functions = {"gcf_128": {"invocations": 10_000_000, "duration_ms": 300}}
    bills = cost(capsys, tmp_path, functions)
    assert list(bills) == [
        ("aws", "x86_64"),
        ("aws", "arm64"),
        ("azure", "consumption"),
        ("azure", "flex"),
        ("gcp", "gen2"),
        ("gcp", "gen1"),
    ]
    assert [key for key, bill in bills.items() if bill["deployed"]] == [
        ("aws", "x86_64"),
        ("azure", "consumption"),
        ("gcp", "gen2"),
    ]
    # 2nd gen, what polyfn deploys on GCP, is the 1st gen example's traffic at Cloud Run's
    # rates: 3,000,000 s at 0.083 vCPU = 249,000 vCPU-s (69,000 billable at $0.000024 = $1.656),
    # 375,000 GiB-s (15,000 billable at $0.0000025 = $0.0375), 8 million billable requests.
    assert amounts(bills["gcp", "gen2"]) == {"Requests": "3.20", "CPU": "1.66", "Memory": "0.04"}


def test_lambda_pricing_page_example_1_at_the_pages_rate() -> None:
    # https://aws.amazon.com/lambda/pricing/ (the same version's "Example 1", published with the
    # rate then listed, $0.00001667 per GB-s; today's table holds $0.0000166667): 512 MB, 3 million
    # executions of 1 s: 1,500,000 GB-s less 400,000 free -> $18.34; 2 million billable requests
    # -> $0.40; total $18.74. The page's rate goes in as a table of that date would hold it.
    from polyfn_aws._cost import LAMBDA_PAGE, RATES, bills

    app = load_app(EXAMPLES)
    usage = profile_usages(
        {"functions": {"lambda_512": {"invocations": 3_000_000, "duration_ms": 1000}}},
        app,
        origin="example",
    )
    then = {**RATES, "x86_64": Rate("0.00001667", "GB-s", free=400_000, source=LAMBDA_PAGE)}
    bill = bills(usage, free_tier=True, rates=then)[0]
    assert [(line.item, line.amount) for line in bill.lines] == [
        ("Lambda requests", Decimal("0.40")),
        ("Lambda compute (x86_64)", Decimal("18.34")),
    ]
    assert bill.total == Decimal("18.74")


def test_triggers_imply_gateway_queue_topic_and_storage_requests(
    capsys: Any, tmp_path: Path
) -> None:
    # 2 KB messages: one request each on SQS (64 KB chunks); batches of 10: per message a send,
    # per 10 messages a receive and a delete -> 1,200,000 requests, 200,000 past the free million.
    functions = {
        "azure_512": {"invocations": 2_000_000, "duration_ms": 50, "request_bytes": 600_000},
        "on_order": {
            "invocations": 100_000,
            "duration_ms": 300,
            "messages": 1_000_000,
            "request_bytes": 2048,
        },
        "on_news": {"invocations": 10_000, "duration_ms": 20},
        "on_upload": {"invocations": 20_000, "duration_ms": 500},
    }
    bills = cost(capsys, tmp_path, functions)
    aws = {line["item"]: line for line in bills["aws", "x86_64"]["lines"]}
    # An HTTP API request of 600,000 bytes meters as two 512 KB requests.
    assert aws["API Gateway HTTP API requests"]["quantity"] == "4000000"
    assert aws["API Gateway HTTP API requests"]["amount"] == "4.00"
    assert (aws["SQS standard requests"]["quantity"], aws["SQS standard requests"]["amount"]) == (
        "1200000",
        "0.08",
    )
    assert aws["SNS publishes"]["quantity"] == "10000"
    # Lambda requests: one per invocation (2M HTTP, 100,000 queue batches, 10,000 SNS and 20,000
    # S3 events).
    assert aws["Lambda requests"]["quantity"] == "2130000"
    assert aws["S3 PUT requests (uploads)"]["amount"] == "0.10"
    gcp = {line["item"]: line for line in bills["gcp", "gen2"]["lines"]}
    assert "Pub/Sub throughput" in gcp and "Cloud Storage Class A operations (uploads)" in gcp
    azure = {line["item"]: line for line in bills["azure", "consumption"]["lines"]}
    # Storage queue operations are counted but carry no price in polyfn's table.
    assert azure["Storage queue operations"]["amount"] is None
    assert azure["Service Bus Standard base"]["amount"] == "9.86"  # 730 h at $0.0135
    # The 13 million operations the base charge includes are no free tier: --no-free-tier keeps
    # them, while every free tier goes.
    priced = cost(capsys, tmp_path, functions, "--no-free-tier", "--provider", "azure")
    bus = {line["item"]: line for line in priced["azure", "consumption"]["lines"]}
    assert bus["Service Bus operations"]["free"] == bus["Service Bus operations"]["quantity"]
    assert bus["Executions"]["free"] == "0"


def test_text_output_names_plans_rates_and_sources(capsys: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(
        '{"functions": {"lambda_128": {"invocations": 30000000, "duration_ms": 200}}}'
    )
    code, out, err = run(capsys, "cost", EXAMPLES, "--profile", str(profile), "--provider", "aws")
    assert code == 0, err
    assert "AWS Lambda x86_64 (what polyfn deploys)" in out
    assert "$0.0000166667 per GB-s" in out and "$11.63" in out
    assert "source: https://aws.amazon.com/lambda/pricing/" in out


def _serve_log(records: list[tuple[str, float, int]]) -> str:
    """Invocation lines as `polyfn serve` writes them (its JSON formatter), at chosen times."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    for function, duration, second in records:
        record = logging.LogRecord("polyfn", logging.INFO, __file__, 0, "invocation", (), None)
        record.created = datetime(2026, 12, 1, 12, 0, second, tzinfo=UTC).timestamp()
        record.__dict__.update(function=function, trigger="http", duration_ms=duration)
        handler.emit(record)
    stream.write('{"message": "not an invocation"}\nserve: listening\n')
    return stream.getvalue()


def test_measured_profile_from_serve_log() -> None:
    # Four calls of gcf_128 over 10 seconds: 4 * (30 days / 10 s) = 1,036,800 a month, averaging
    # 25 ms; one of lambda_128.
    log = _serve_log(
        [
            ("gcf_128", 20.0, 0),
            ("gcf_128", 30.0, 4),
            ("gcf_128", 20.0, 6),
            ("gcf_128", 30.0, 10),
            ("lambda_128", 7.5, 5),
        ]
    )
    usage = {u.name: u for u in read_profile(log, load_app(EXAMPLES), origin="serve.log")}
    assert usage["gcf_128"].invocations == Decimal(1_036_800)
    assert usage["gcf_128"].duration_ms == Decimal(25)
    assert usage["lambda_128"].invocations == Decimal(259_200)
    assert usage["lambda_128"].memory_mb == 128  # from the declared memory=


@pytest.mark.parametrize(
    ("profile", "named"),
    [
        (
            {"functions": {"gcf_128": {"invocations": -3, "duration_ms": 1}}},
            "functions.gcf_128.invocations must not be negative",
        ),
        (
            '{"functions": {"gcf_128": {"invocations": NaN, "duration_ms": 1}}}',
            "invocations must be a finite number",
        ),
        (
            '{"functions": {"gcf_128": {"invocations": 1, "duration_ms": Infinity}}}',
            "duration_ms must be a finite number",
        ),
        ({"functions": {"nope": {"invocations": 1, "duration_ms": 1}}}, "has no function 'nope'"),
        (
            {"functions": {"gcf_128": {"invocations": "3", "duration_ms": 1}}},
            "invocations must be a number, got '3'",
        ),
        (
            {"functions": {"gcf_128": {"invocations": True, "duration_ms": 1}}},
            "invocations must be a number, got True",
        ),
        (
            {"functions": {"gcf_128": {"invocations": 1}}},
            "functions.gcf_128.duration_ms is missing",
        ),
        (
            {"functions": {"gcf_128": {"invocations": 1, "duration_ms": 1, "mem": 1}}},
            "unknown field(s) 'mem'",
        ),
        (
            {"functions": {"gcf_128": {"invocations": 1, "duration_ms": 1, "memory_mb": 0.5}}},
            "memory_mb must be a positive whole number",
        ),
        (
            {"functions": {"gcf_128": {"invocations": 1, "duration_ms": 1, "memory_mb": 99999}}},
            "memory 99999 MB (the profile's memory_mb",
        ),
        (
            '{"functions": {"gcf_128": {"invocations": 1e999999, "duration_ms": 1}}}',
            "invocations must be at most 10^15",
        ),
        ({"functions": [1]}, "'functions' must be an object"),
        ({"function": {}}, "unknown top-level field(s) 'function'"),
        ("[1, 2]", "expected a JSON object"),
        ("not json", "not JSON"),
    ],
)
def test_nonsense_profile_is_refused_naming_the_field(
    capsys: Any, tmp_path: Path, profile: Any, named: str
) -> None:
    path = tmp_path / "profile.json"
    path.write_text(profile if isinstance(profile, str) else json.dumps(profile))
    code, out, err = run(capsys, "cost", EXAMPLES, "--profile", str(path))
    assert code == 2
    assert named in " ".join(err.split())
    assert "Traceback" not in err and out == ""


def test_a_provider_without_price_tables_is_skipped_unless_named(
    capsys: Any, tmp_path: Path
) -> None:
    from polyfn._provider import _REGISTERED, ProviderDefaults, register

    class Unpriced(ProviderDefaults):
        name = "unpriced"

    register(Unpriced())  # type: ignore[arg-type]
    try:
        profile = tmp_path / "p.json"
        profile.write_text('{"functions": {"gcf_128": {"invocations": 1, "duration_ms": 1}}}')
        code, out, err = run(capsys, "cost", EXAMPLES, "--profile", str(profile))
        assert code == 0, err
        assert "not priced: unpriced: provider 'unpriced' has no price tables" in out
        code, out, err = run(
            capsys, "cost", EXAMPLES, "--profile", str(profile), "--provider", "unpriced"
        )
        assert code == 2 and "has no price tables" in err
    finally:
        _REGISTERED.pop("unpriced", None)


def test_usage_defaults_come_from_declared_settings() -> None:
    app = load_app(EXAMPLES)
    (usage,) = profile_usages(
        {"functions": {"on_order": {"invocations": 5, "duration_ms": 1}}}, app, origin="x"
    )
    assert isinstance(usage, Usage)
    assert (usage.memory_mb, usage.messages, usage.request_bytes) == (None, 5, 1024)


def _line(function: str, time: str, duration: object = 10) -> str:
    return json.dumps(
        {"time": time, "message": "invocation", "function": function, "duration_ms": duration}
    )


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        (
            [_line("ghost", "2026-12-01T12:00:00+00:00"), _line("ghost", "2026-12-01T12:00:09")],
            "the log has invocations of 'ghost', which app 'pricing-examples' does not declare",
        ),
        (
            [
                _line("gcf_128", "2026-12-01T12:00:00+00:00"),
                _line("gcf_128", "2026-12-01T12:00:00"),
            ],
            "needs a log that covers at least a second",
        ),
        (
            [_line("gcf_128", "2026-12-01T12:00:00+00:00"), _line("gcf_128", "noon")],
            "time 'noon' is not an ISO 8601 time",
        ),
        (
            [_line("gcf_128", "2026-12-01T12:00:00+00:00"), _line("gcf_128", "2026-12-01", "x")],
            "duration_ms must be a number, got 'x'",
        ),
    ],
)
def test_a_bad_serve_log_is_refused_naming_the_line(
    capsys: Any, tmp_path: Path, lines: list[str], named: str
) -> None:
    # The second line of each has no offset: serve writes UTC, and such a time is taken as UTC.
    path = tmp_path / "serve.log"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "cost", EXAMPLES, "--profile", str(path))
    assert code == 2
    assert named in " ".join(err.split())
    assert "Traceback" not in err and out == ""
