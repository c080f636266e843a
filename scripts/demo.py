"""polyfn's demo: one app, three clouds, no cloud account.

1. samples/orders served through its three real entry files: lambda_function.handler (API
   Gateway HTTP API events that Powertools' parser models accept, awslambdaric's context),
   function_app.py (the functions azure-functions indexes, called with the worker's
   HttpRequestConverter over host-shaped Datums) and main.py (functions-framework's own app).
   Each request prints as one line: request -> status and body.
2. samples/worker on SQS: a batch with one order that cannot be served; Lambda is told to
   redeliver exactly that message (batchItemFailures).
3. `polyfn conformance`: every neutral case on every cloud's driver, the case x target matrix.

Exits non-zero when any answer differs from what the sample promises or the matrix has a failure.
Run it through `bash scripts/demo.sh`, which sets up .venv first.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.cases.queue import Message  # noqa: E402
from conformance.targets import aws_events  # noqa: E402
from tests.samples import _native  # noqa: E402

ENTRIES = {
    "aws": "AWS Lambda: samples/orders/lambda_function.py handler\n"
    "   API Gateway HTTP API events, accepted by Powertools' parser; awslambdaric's context",
    "azure": "Azure Functions: the functions samples/orders/function_app.py indexes\n"
    "   host-shaped Datums through azure-functions' HttpRequestConverter, routes under /api",
    "gcp": "Google Cloud Functions: samples/orders/main.py http\n"
    "   requests through functions-framework's own app (create_app(...).test_client())",
}
# (method, path, query, JSON body, the status the sample promises)
REQUESTS: list[tuple[str, str, str, Any, int]] = [
    ("POST", "/orders", "", {"sku": "apple", "quantity": 3}, 201),
    ("POST", "/orders", "", {"sku": "pear", "quantity": 1, "note": "gift"}, 201),
    ("GET", "/orders/1", "", None, 200),
    ("GET", "/orders", "sku=pear", None, 200),
    ("POST", "/orders", "", {"sku": "", "quantity": 0}, 400),
    ("DELETE", "/orders/1", "", None, 204),
    ("GET", "/orders/1", "", None, 404),
    ("PUT", "/orders", "", None, 405),
]
OK, BAD = "ok", "FAILED"


def _short(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 3] + "..."


def _answer(status: int | None, body: bytes) -> str:
    """The body as sent, except a 400's field errors, shown one `field: error type` each."""
    text = body.decode("utf-8", "replace")
    if status == 400:
        answer = json.loads(body)
        fields = ", ".join(f"{f['loc']}: {f['type']}" for f in answer.get("fields", []))
        return f"{answer['error']} ({fields})"
    return text


class _Logs(logging.Handler):
    """Keeps the samples' JSON log lines off the transcript (polyfn keeps a handler it finds)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def orders_on(cloud: str) -> bool:
    # The orders table and the worker's queue: local twins, fresh for each cloud.
    with (
        tempfile.TemporaryDirectory(prefix="polyfn-demo-") as state,
        _native.local_resources(Path(state)),
    ):
        return _orders_requests(cloud)


def _orders_requests(cloud: str) -> bool:
    print(f"\n== {ENTRIES[cloud]}")
    good = True
    for method, path, query, body, expected in REQUESTS:
        outcome = _native.http("orders", cloud, method, path, query=query, json_body=body)
        target = path + (f"?{query}" if query else "")
        sent = f"{method} {target}"
        if body is not None:
            sent += " " + json.dumps(body, separators=(",", ":"))
        answer = _answer(outcome.status, outcome.body)
        for header in ("location", "allow"):  # the headers the sample's answers promise
            if header in outcome.headers:
                answer = f"{header.title()}: {outcome.headers[header][0]}  {answer}"
        mark = "" if outcome.status == expected else f"  <- {BAD}: expected {expected}"
        good = good and outcome.status == expected
        print(f"    {sent}\n      -> {outcome.status} {_short(answer, 86)}{mark}".rstrip())
    return good


def worker_on_sqs() -> bool:
    # The stock and reservations tables: local twins.
    with (
        tempfile.TemporaryDirectory(prefix="polyfn-demo-") as state,
        _native.local_resources(Path(state)),
    ):
        return _worker_batch()


def _worker_batch() -> bool:
    worker = _native.app_module("worker")
    worker.restock("apple", 10)
    worker.restock("pear", 3)
    from datetime import UTC, datetime

    sent = datetime.now(UTC)
    orders = [("m-1", "apple", 2), ("m-2", "pear", 5), ("m-3", "apple", 1)]
    batch = [
        Message(id=i, body=json.dumps({"sku": s, "quantity": q}).encode(), enqueued_time=sent)
        for i, s, q in orders
    ]
    records = [aws_events.sqs_record("orders", m.id, m.body.decode(), sent=sent) for m in batch]
    event = _native.aws_validate("SqsModel", {"Records": records})
    print("\n== AWS Lambda: samples/worker/lambda_function.py, handler (SQS; 3 pears in stock)")
    for record in records:
        print(f"    {record['messageId']}: {record['body']}")
    result = _native.aws_invoke("worker", event)
    print(f"      -> {json.dumps(result)}")
    levels = {sku: worker.stock.get(sku)["available"] for sku in ("apple", "pear")}
    print(f"    stock left: {levels}; Lambda deletes m-1 and m-3, SQS redelivers m-2 later")
    good = result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]} and levels == {
        "apple": 7,
        "pear": 3,
    }
    if not good:
        print(f"  {BAD}: expected only m-2 in batchItemFailures and 3 apples reserved")
    return good


def conformance() -> int:
    print("\n== polyfn conformance: every neutral case on every cloud's driver\n", flush=True)
    polyfn = Path(sys.executable).parent / "polyfn"
    command = [str(polyfn), "conformance"]
    if not polyfn.exists():
        found = shutil.which("polyfn")
        command = [found, "conformance"] if found else [sys.executable, "-m", "conformance"]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def main() -> int:
    logs = _Logs()
    polyfn_logger = logging.getLogger("polyfn")
    polyfn_logger.addHandler(logs)
    polyfn_logger.setLevel(logging.INFO)
    polyfn_logger.propagate = False

    print("polyfn demo: the same orders app on three clouds' real entry points, no account needed")
    results = {cloud: orders_on(cloud) for cloud in _native.CLOUDS}
    results["sqs"] = worker_on_sqs()
    print(f"\n({len(logs.records)} log lines from the handlers kept off this transcript)")
    status = conformance()
    failed = [name for name, good in results.items() if not good]
    if status != 0:
        failed.append("conformance")
    print("\n" + ("demo: all good" if not failed else f"demo: {BAD}: {', '.join(failed)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
