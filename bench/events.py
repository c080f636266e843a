"""Warm event invocations: a storage event and a timer tick per cloud, through polyfn and through a
hand-written function, beside the cloud library's (or runtime's) own step that builds what the
function gets. One event per invocation, payloads from the test suite's fixtures (tests/events).

- AWS: an S3 ObjectCreated:Put notification and an EventBridge scheduled event through
  `polyfn_aws.handler` vs a raw handler (the runtime's own step: json.loads of the event; for
  reference, Powertools' S3Event / EventBridgeEvent data classes read the same fields).
- Azure: the blob trigger, Event Grid BlobCreated and the timer trigger, each decoded by
  azure-functions' converter from a host-shaped Datum, through the function
  `polyfn_azure.function_app` registered vs a raw v2-model function.
- GCP: a Cloud Storage finalized CloudEvent (binary mode, parsed by cloudevents' from_http as
  functions-framework does) through `polyfn_gcp.cloud_event` vs a raw CloudEvent function, and a
  Cloud Scheduler HTTP tick through `polyfn_gcp.http` vs a raw HTTP function (Flask's own step:
  the request context).

Medians of interleaved rounds; "polyfn adds" is the paired median difference from the raw one.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _apps import Seen, seen_box, shop_app  # noqa: E402
from _clouds import azure_call, environ, ff_app, load_gcp  # noqa: E402
from _common import compare, fmt_us, load_event, table  # noqa: E402

CLOUD, RAW, POLYFN, REFERENCE = "cloud", "raw", "polyfn", "reference"
HEADERS = [
    "event",
    "cloud library's own step µs",
    "raw function µs",
    "polyfn µs",
    "polyfn adds µs",
    "x raw",
]


def _row(event: str, variants: dict[str, Callable[[], object]]) -> tuple[list[str], str]:
    t = compare(variants)
    row = [
        event,
        fmt_us(t.median(CLOUD)),
        fmt_us(t.median(RAW)),
        fmt_us(t.median(POLYFN)),
        fmt_us(t.diff(POLYFN, RAW)),
        f"{t.ratio(POLYFN, RAW):.2f}",
    ]
    ref = f"{fmt_us(t.median(REFERENCE))} µs" if REFERENCE in variants else ""
    return row, ref


def _section(title: str, cloud_step: str, rows: list[list[str]], notes: list[str]) -> str:
    return "\n".join(
        [f"### {title}", "", f"Cloud library's own step: {cloud_step}.", "", table(HEADERS, rows)]
        + (["", *notes] if notes else [])
    )


def aws_bench() -> str:
    import polyfn_aws
    from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, S3Event
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, S3Model
    from awslambdaric.lambda_context import LambdaContext

    context = LambdaContext("req-1", None, None, 4102444800000, "arn:aws:lambda:us-east-1:1:f")
    seen = seen_box()
    handler = polyfn_aws.handler(shop_app(seen))

    s3 = load_event("aws", "s3_put.json")
    S3Model.model_validate(s3)
    s3_text = json.dumps(s3)

    def raw_s3(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            obj = record["s3"]["object"]
            seen.append((record["s3"]["bucket"]["name"], unquote_plus(obj["key"]), obj["size"]))

    def powertools_s3(event: dict[str, Any]) -> None:
        for record in S3Event(event).records:
            seen.append(
                (record.s3.bucket.name, record.s3.get_object.key, record.s3.get_object.size)
            )

    tick = load_event("aws", "eventbridge_schedule.json")
    EventBridgeModel.model_validate(tick)
    tick_text = json.dumps(tick)

    def raw_tick(event: dict[str, Any], context: Any) -> None:
        if event["resources"][0].rsplit("/", 1)[-1] == "shop-nightly":
            seen.append(event["time"])

    def powertools_tick(event: dict[str, Any]) -> None:
        e = EventBridgeEvent(event)
        if e.resources[0].rsplit("/", 1)[-1] == "shop-nightly":
            seen.append(e.time)

    rows, notes = [], []
    for name, text, event, raw, reference in (
        ("S3 ObjectCreated:Put notification", s3_text, s3, raw_s3, powertools_s3),
        ("EventBridge scheduled event", tick_text, tick, raw_tick, powertools_tick),
    ):
        events = [copy.deepcopy(event) for _ in range(3)]
        assert handler(events[0], context) is None
        row, ref = _row(
            name,
            {
                CLOUD: partial(json.loads, text),
                RAW: partial(raw, events[1], context),
                POLYFN: partial(handler, events[0], context),
                REFERENCE: partial(reference, events[2]),
            },
        )
        rows.append(row)
        notes.append(f"- {name}: Powertools' data class reading the same fields: {ref}.")
        seen.clear()
    return _section(
        "AWS: storage event and timer tick, warm, per invocation",
        "json.loads of the event, which the Lambda runtime does before it calls the handler",
        rows,
        notes,
    )


def azure_bench() -> str:
    import azure.functions as func
    import polyfn_azure

    logging.getLogger().setLevel(logging.ERROR)  # azure-functions' auth-level notice at build
    seen = seen_box()
    app = shop_app(seen)
    grid_app = shop_app(seen, storage_on=("created", "deleted"))  # deletes: bound to Event Grid
    blob = azure_call(polyfn_azure.function_app(app), "on_upload", "blob_trigger.json")
    timer = azure_call(polyfn_azure.function_app(app), "nightly", "timer_request.json")
    grid = azure_call(
        polyfn_azure.function_app(grid_app), "on_upload", "eventgrid_blob_created.json"
    )

    def raw_blob(blob: func.InputStream, context: func.Context) -> None:
        container, _, key = (blob.name or "").partition("/")
        seen.append((container, key, blob.length))

    def raw_grid(event: func.EventGridEvent, context: func.Context) -> None:
        if event.event_type == "Microsoft.Storage.BlobCreated":
            _, _, path = event.subject.partition("/containers/")
            container, _, key = path.partition("/blobs/")
            seen.append((container, key, event.get_json()["contentLength"]))

    def raw_timer(timer: func.TimerRequest, context: func.Context) -> None:
        seen.append(timer.past_due)

    rows = []
    for name, call, raw in (
        ("blob trigger (created)", blob, raw_blob),
        ("Event Grid BlobCreated (Event Grid schema)", grid, raw_grid),
        ("timer trigger tick", timer, raw_timer),
    ):
        arg = call.decode()
        call.call(arg)
        assert seen, name
        row, _ = _row(
            name,
            {
                CLOUD: call.decode,
                RAW: partial(raw, arg, call.context),
                POLYFN: partial(call.call, arg),
            },
        )
        rows.append(row)
        seen.clear()
    return _section(
        "Azure: storage events and timer tick, warm, per invocation",
        "azure-functions' converter (BlobConverter, EventGridEventInConverter, "
        "TimerRequestConverter).decode of the host's Datum",
        rows,
        [],
    )


def gcp_bench() -> str:
    import flask
    from cloudevents.http import from_http

    ff_app("raw_event", "cloudevent")  # loads bench/_gcp_targets.py as module _gcp_targets
    targets = sys.modules["_gcp_targets"]
    seen: Seen = targets.SEEN

    storage = load_gcp("storage_cloudevent.json")
    # Binary content mode, as Eventarc delivers: attributes as ce-* headers, data as the body.
    headers = {
        f"ce-{k}": str(v) for k, v in storage.items() if k not in ("data", "datacontenttype")
    }
    headers["Content-Type"] = storage["datacontenttype"]
    body = json.dumps(storage["data"]).encode()
    event = from_http(headers, body)

    tick = load_gcp("scheduler_http.json")
    tick_env = environ(tick["method"], tick["path"], tick["headers"], tick["body"].encode())
    tick_app = ff_app("raw_http", "http")

    def request_context() -> None:
        with tick_app.request_context(tick_env()):
            pass

    assert targets.polyfn_http(flask.Request(tick_env())).status_code == 204
    targets.polyfn_event(event)
    assert len(seen) == 2, seen
    rows = []
    storage_row, _ = _row(
        "Cloud Storage finalized (CloudEvent)",
        {
            CLOUD: lambda: from_http(headers, body),
            RAW: lambda: targets.raw_event(event),
            POLYFN: lambda: targets.polyfn_event(event),
        },
    )
    rows.append(storage_row)
    tick_row, _ = _row(
        "Cloud Scheduler HTTP tick",
        {
            CLOUD: request_context,
            RAW: lambda: targets.raw_http(flask.Request(tick_env())),
            POLYFN: lambda: targets.polyfn_http(flask.Request(tick_env())),
        },
    )
    rows.append(tick_row)
    seen.clear()
    return _section(
        "GCP: storage event and timer tick, warm, per invocation",
        "cloudevents' from_http (headers and body to a CloudEvent) for the storage event; Flask's "
        "request context (Request, push, pop) for the tick",
        rows,
        [
            "- The tick's raw and polyfn rows both include building the flask.Request "
            '(a few µs), so it cancels out of "polyfn adds".',
        ],
    )


def main() -> int:
    print(aws_bench())
    print()
    print(azure_bench())
    print()
    print(gcp_bench())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
