"""`polyfn translate`: every sample trigger of every cloud, SAM CLI's templates and the suite's
fixtures become another cloud's native event that the target's own parsers accept (Powertools'
models, azure-functions' converters fed the worker's Datum, functions-framework's app), and that
reads back as the same request, object change, message or tick."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from polyfn_aws import _samples as aws
from polyfn_azure import _samples as azure
from polyfn_gcp import _samples as gcp

from conformance.hosts.azure import to_datum
from polyfn import ConfigError
from polyfn._translate import neutral_fields, translate
from tests._sam import sam_event
from tests.cli._run import run, write_event
from tests.cli.conftest import open_gcp_sample
from tests.cli.test_samples import AWS_MODELS, _ff

if TYPE_CHECKING:
    from polyfn._provider import EventSamples

CLOUDS: dict[str, Any] = {"aws": aws, "azure": azure, "gcp": gcp}
EVENTS = Path(__file__).resolve().parents[1] / "events"


def _validate(cloud: str, event: dict[str, Any], source: Path) -> None:
    """The target cloud's own parser accepts `event`."""
    samples = CLOUDS[cloud]
    trigger = samples.trigger_of(event)
    assert trigger is not None, event
    if cloud == "aws":
        if trigger in AWS_MODELS:
            parse(event=event, model=AWS_MODELS[trigger])
        return
    if cloud == "azure":
        from azure.functions import meta

        data = to_datum(event["inputData"][0]["data"], "inputData[0].data")
        metadata = {k: to_datum(v, k) for k, v in event["triggerMetadata"].items()}
        converter = meta.get_binding_registry().get(azure.BINDINGS[trigger])
        assert converter.decode(data, trigger_metadata=metadata) is not None
        return
    if trigger in ("http", "scheduler-http"):
        client, _ = _ff(source, "web", "http")
        resp = open_gcp_sample(client, event)
    else:
        client, _ = _ff(source, "event", "cloudevent")
        resp = client.post(
            "/", data=json.dumps(event), headers={"Content-Type": "application/cloudevents+json"}
        )
    assert resp.status_code == 200, resp.get_data()


def _core(samples: EventSamples, event: dict[str, Any]) -> dict[str, str]:
    """What must survive a translation: the fields that say what happened (not ids, delivery
    counts or the cloud's own headers)."""
    kind, fields = neutral_fields(samples.read_event(event), tuple(samples.PLATFORM_HEADERS))
    keep = {
        "http": ("method", "path", "query", "body"),
        "storage": ("bucket", "key", "kind", "size"),
        "queue": ("body", "group"),
        "schedule": ("time",),
    }[kind]
    core = {k: v for k, v in fields.items() if k in keep or k.startswith("attr.")}
    if kind == "http":  # every header of the source arrives (the target adds its own)
        core["headers"] = json.dumps(sorted(k for k in fields if k.startswith("header.")))
    return core


def _headers_kept(before: dict[str, str], after: dict[str, str]) -> None:
    if "headers" in before:
        assert set(json.loads(before.pop("headers"))) <= set(json.loads(after.pop("headers")))


PAIRS = [
    (source, trigger, target)
    for source, samples in CLOUDS.items()
    for trigger in samples.TRIGGERS
    for target in CLOUDS
]


@pytest.mark.parametrize(("source", "trigger", "target"), PAIRS)
def test_every_sample_translates_to_every_cloud(
    source: str, trigger: str, target: str, ff_source: Path
) -> None:
    overrides = {"query": "a=1&a=2", "header.x-custom": "yes"} if trigger == "http" else {}
    event = CLOUDS[source].sample_event(trigger, **overrides)
    out = translate(
        json.loads(json.dumps(event)),
        CLOUDS[source],
        CLOUDS[target],
        source_name=source,
        target_name=target,
    )
    _validate(target, out, ff_source)
    before, after = _core(CLOUDS[source], event), _core(CLOUDS[target], out)
    _headers_kept(before, after)
    assert before == after


SAM_TEMPLATES = [
    ("apigateway", "aws-proxy"),
    ("apigateway", "http-api-proxy"),
    ("alb", "request"),
    ("s3", "put"),
    ("s3", "delete"),
    ("sqs", "receive-message"),
    ("sns", "notification"),
    ("cloudwatch", "scheduled-event"),
]


@pytest.mark.parametrize("target", ["azure", "gcp"])
@pytest.mark.parametrize(("service", "name"), SAM_TEMPLATES)
def test_sam_cli_templates_translate(service: str, name: str, target: str, ff_source: Path) -> None:
    event = sam_event(service, name)
    out = translate(event, aws, CLOUDS[target], source_name="aws", target_name=target)
    _validate(target, out, ff_source)
    before, after = _core(aws, event), _core(CLOUDS[target], out)
    _headers_kept(before, after)
    assert before == after


# Fixtures of the suite that cannot translate, and why (docs/translate.md).
REFUSED = {
    "function_url.json": "the request body is binary",
    "sqs.json": "the batch holds 3 messages",
    "sqs_fifo.json": "the batch holds 5 messages",
    "pubsub_legacy.json": "none of gcp's triggers",  # a legacy Pub/Sub background event
    "pubsub_push.json": "none of gcp's triggers",  # a push body, not a request
}
FIXTURES = sorted(
    (cloud, path) for cloud in ("aws", "gcp") for path in (EVENTS / cloud).glob("*.json")
)


@pytest.mark.parametrize(("source", "path"), FIXTURES, ids=[p.name for _, p in FIXTURES])
def test_fixtures_translate_or_are_refused_with_a_reason(
    source: str, path: Path, ff_source: Path
) -> None:
    event = json.loads(path.read_text())
    event.pop("_comment", None)
    for target, samples in CLOUDS.items():
        run = partial(
            translate, event, CLOUDS[source], samples, source_name=source, target_name=target
        )
        if path.name in REFUSED:
            with pytest.raises(ConfigError, match=REFUSED[path.name]):
                run()
        else:
            _validate(target, run(), ff_source)


# -- the command -----------------------------------------------------------------------------------


def test_the_command_detects_the_source_and_prints_json(capsys: Any, tmp_path: Path) -> None:
    path = write_event(tmp_path, aws.sample_event("s3", key="in/a b.csv"))
    code, out, err = run(capsys, "translate", "--to", "azure", path)
    assert (code, err) == (0, "")
    grid = json.loads(json.loads(out)["inputData"][0]["data"]["json"])
    assert grid["eventType"] == "Microsoft.Storage.BlobCreated"
    assert grid["subject"].endswith("/containers/uploads/blobs/in/a b.csv")

    code, out, _ = run(capsys, "translate", "--to", "aws", "--trigger", "s3-eventbridge", path)
    assert code == 0 and json.loads(out)["detail"]["object"]["key"] == "in/a b.csv"


def test_attributes_choose_the_trigger_that_carries_them(capsys: Any, tmp_path: Path) -> None:
    path = write_event(tmp_path, gcp.sample_event("pubsub", **{"attr.kind": "paid"}))
    code, out, _ = run(capsys, "translate", "--to", "azure", path)
    assert code == 0 and azure.trigger_of(json.loads(out)) == "servicebus"
    code, _, err = run(capsys, "translate", "--to", "azure", "--trigger", "queue", path)
    assert code == 2 and "kind='paid'" in err and "servicebus" in err and "Traceback" not in err


def _sqs_batch(*bodies: str) -> dict[str, Any]:
    records = [
        aws.sample_event("sqs", body=b, id=f"m{i}")["Records"][0] for i, b in enumerate(bodies)
    ]
    return {"Records": records}


@pytest.mark.parametrize(
    ("event", "args", "says"),
    [
        (_sqs_batch("a", "b"), ["--to", "gcp"], "the batch holds 2 messages"),
        (
            aws.sample_event("http-api", body="x") | {"body": "AP8=", "isBase64Encoded": True},
            ["--to", "gcp"],
            "binary",
        ),
        ({"hello": "world"}, ["--to", "gcp"], "looks like no trigger"),
        (aws.sample_event("sqs"), ["--to", "gcp", "--trigger", "storage"], "is no queue trigger"),
        (aws.sample_event("sqs"), ["--to", "gcp", "--from", "azure"], "none of azure's triggers"),
        (
            aws.sample_event("s3-eventbridge") | {"detail-type": "Object Restore Completed"},
            ["--to", "gcp"],
            "no neutral meaning",
        ),
        (
            gcp.sample_event("storage") | {"type": "google.cloud.storage.object.v1.archived"},
            ["--to", "aws"],
            "kind='archived' must be one of: created, deleted",
        ),
        (
            {"Records": aws.sample_event("s3")["Records"] * 2},
            ["--to", "azure"],
            "the event holds 2 S3 records",
        ),
        (
            json.loads(
                (EVENTS / "aws" / "not_requests" / "apiGatewayAuthorizerV2Event.json").read_text()
            ),
            ["--to", "gcp"],
            "a Lambda authorizer event",
        ),
    ],
    ids=[
        "batch",
        "binary",
        "unknown",
        "wrong-trigger",
        "wrong-source",
        "restore",
        "archived",
        "two-records",
        "authorizer",
    ],
)
def test_what_cannot_translate_exits_2_naming_it(
    capsys: Any, tmp_path: Path, event: dict[str, Any], args: list[str], says: str
) -> None:
    code, out, err = run(capsys, "translate", *args, write_event(tmp_path, event))
    assert (code, out) == (2, "")
    assert says in " ".join(err.split()) and "Traceback" not in err
