"""`polyfn build --provider aws`: the CloudFormation template, checked by cfn-lint, by reading it,
and by creating it on a local moto_server through `polyfn deploy`."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from polyfn_aws._build import build, template

from polyfn import App, ConfigError
from polyfn._app import DEFAULT_TIMEOUT_SECONDS
from polyfn._cli import main
from polyfn._groups import http_groups
from tests.build import richapp
from tests.build._cfn import resolve

APP_REF = f"{Path(richapp.__file__).resolve()}:app"


def _cfn_lint_errors(template_path: Path) -> list[dict[str, Any]]:
    """cfn-lint's error-level findings on a template (warnings and notes are not errors)."""
    exe = Path(sys.executable).with_name("cfn-lint")
    cmd = [str(exe)] if exe.exists() else [shutil.which("cfn-lint") or "cfn-lint"]
    done = subprocess.run(
        [*cmd, "--format", "json", str(template_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode in (0, 2, 4, 6, 8, 10, 12, 14), done.stderr  # bit flags, not a crash
    return [f for f in json.loads(done.stdout or "[]") if f["Level"] == "Error"]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    document, _ = template(richapp.app)
    return document


def _of_type(doc: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == type_}


def _lambda_name(app: App, name: str) -> str:
    """The Lambda that serves function `name`: its group's for HTTP functions, else its own."""
    fn = app.function(name)
    group = next((g.name for g in http_groups(app) if fn in g.functions), fn.name)
    return f"{app.name}-{group}"


def _function(doc: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    for lid, res in _of_type(doc, "AWS::Lambda::Function").items():
        if res["Properties"]["FunctionName"] == _lambda_name(richapp.app, name):
            return lid, res["Properties"]
    raise AssertionError(f"no Lambda function for {name}")


def _statements(doc: dict[str, Any], fn: str) -> list[dict[str, Any]]:
    _, props = _function(doc, fn)
    role = doc["Resources"][props["Role"]["Fn::GetAtt"][0]]
    (policy,) = role["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def test_cfn_lint_reports_no_errors(tmp_path: Path) -> None:
    warnings = build(richapp.app, tmp_path, app_ref="richapp:app")
    assert warnings == []
    assert _cfn_lint_errors(tmp_path / "template.json") == []


def test_each_event_function_and_each_http_group_is_a_lambda_with_its_own_role(
    doc: dict[str, Any], tmp_path: Path
) -> None:
    functions = _of_type(doc, "AWS::Lambda::Function")
    http = richapp.app.functions_of("http")
    # richapp's three routes declare three different settings: three HTTP Lambdas.
    assert len(http_groups(richapp.app)) == 3
    assert len(functions) == len(richapp.app.functions) - len(http) + 3
    roles = {res["Properties"]["Role"]["Fn::GetAtt"][0] for res in functions.values()}
    assert len(roles) == len(functions)
    for res in functions.values():
        props = res["Properties"]
        assert props["Runtime"] == "python3.11"
        assert props["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    build(richapp.app, tmp_path, app_ref="shop.api:app")
    _, props = _function(doc, "on_order")
    module = props["Handler"].rsplit(".", 1)[0]
    entry = (tmp_path / f"{module}.py").read_text()
    assert "from shop.api import app as _app" in entry
    assert 'handler = polyfn_aws.handler(_app, function="on_order")' in entry
    _, props = _function(doc, "home")
    assert props["Handler"] == "polyfn_entry.handler"
    assert "handler = polyfn_aws.handler(_app)\n" in (tmp_path / "polyfn_entry.py").read_text()


def test_settings_map_to_lambda(doc: dict[str, Any]) -> None:
    _, get_order = _function(doc, "get_order")
    assert (get_order["MemorySize"], get_order["Timeout"]) == (256, 10)
    _, put_file = _function(doc, "put_file")
    assert put_file["Environment"] == {"Variables": {"STAGE": "test"}}
    assert put_file["ReservedConcurrentExecutions"] == 5
    _, on_event = _function(doc, "on_event")
    assert (on_event["MemorySize"], on_event["Timeout"]) == (512, 120)
    # max_concurrency on a queue function caps the event source mapping, not the function.
    _, on_order = _function(doc, "on_order")
    assert "ReservedConcurrentExecutions" not in on_order
    # No declared timeout: polyfn's default, written out (Lambda's own default is 3 s).
    for name in ("home", "nightly", "on_upload", "on_order"):
        assert _function(doc, name)[1]["Timeout"] == DEFAULT_TIMEOUT_SECONDS, name


def test_every_lambda_has_a_log_group_with_a_configurable_retention(doc: dict[str, Any]) -> None:
    parameter = doc["Parameters"]["LogRetentionInDays"]
    assert parameter["Default"] == 30 and 30 in parameter["AllowedValues"]
    groups = {
        g["Properties"]["LogGroupName"]: g["Properties"]
        for g in _of_type(doc, "AWS::Logs::LogGroup").values()
    }
    for lid, res in _of_type(doc, "AWS::Lambda::Function").items():
        name = res["Properties"]["FunctionName"]
        assert groups[f"/aws/lambda/{name}"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
        assert any(dep.endswith("LogGroup") for dep in res["DependsOn"]), lid
    assert len(groups) == len(_of_type(doc, "AWS::Lambda::Function"))


def test_roles_grant_only_what_the_trigger_needs(doc: dict[str, Any]) -> None:
    def actions(fn: str) -> set[str]:
        out: set[str] = set()
        for st in _statements(doc, fn):
            acts = st["Action"]
            out.update([acts] if isinstance(acts, str) else acts)
        return out

    logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert actions("get_order") == logs
    assert actions("every_five") == logs
    assert actions("on_upload") == logs | {"s3:GetObject", "sqs:SendMessage"}
    assert actions("on_delete") == logs  # deletes only: nothing left to read
    assert actions("on_order") == logs | {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }
    (s3,) = [st for st in _statements(doc, "on_upload") if st["Action"] == "s3:GetObject"]
    assert resolve(s3["Resource"], doc) == f"arn:aws:s3:::{richapp.UPLOADS}/incoming/*"
    (sqs,) = [st for st in _statements(doc, "on_order") if "sqs:ReceiveMessage" in st["Action"]]
    queue_id = sqs["Resource"]["Fn::GetAtt"][0]
    assert resolve(doc["Resources"][queue_id]["Properties"]["QueueName"], doc) == richapp.ORDERS


def _routes(doc: dict[str, Any]) -> dict[str, str]:
    """RouteKey -> the FunctionName of the Lambda its integration invokes."""
    resources = doc["Resources"]
    out = {}
    for r in _of_type(doc, "AWS::ApiGatewayV2::Route").values():
        integration = resources[r["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]]
        fn_id = integration["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        out[r["Properties"]["RouteKey"]] = resources[fn_id]["Properties"]["FunctionName"]
    return out


def test_http_routes_with_different_settings_get_their_own_lambda(doc: dict[str, Any]) -> None:
    name = richapp.app.name
    # The shared Lambda takes $default; routes whose settings differ keep explicit routes.
    assert _routes(doc) == {
        "$default": f"{name}-http",
        "PUT /files/{path+}": f"{name}-put_file",
        "GET /": f"{name}-home",
    }
    integrations = _of_type(doc, "AWS::ApiGatewayV2::Integration").values()
    assert {i["Properties"]["PayloadFormatVersion"] for i in integrations} == {"2.0"}
    principals = [
        p["Properties"]["Principal"] for p in _of_type(doc, "AWS::Lambda::Permission").values()
    ]
    assert principals.count("apigateway.amazonaws.com") == 3
    assert doc["Outputs"]["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }


def test_http_routes_share_one_lambda_unless_settings_differ_or_standalone(
    tmp_path: Path,
) -> None:
    app = App("api")
    for path in ("/a", "/b", "/c/{id}"):
        app.http(path, methods=["GET", "POST"], function_name=path.split("/")[1])(
            lambda req, ctx: "ok"
        )
    app.http("/slow", timeout=25, function_name="slow")(lambda req, ctx: "ok")
    app.http("/slower", timeout=25, function_name="slower")(lambda req, ctx: "ok")
    app.http("/own", standalone=True, function_name="own")(lambda req, ctx: "ok")
    app.http("/capped", max_concurrency=2, function_name="capped")(lambda req, ctx: "ok")
    app.schedule("0 1 * * *", function_name="tick")(lambda e, c: None)
    document, warnings = template(app)
    assert warnings == []
    assert _routes(document) == {
        "$default": "api-http",
        "GET /slow": "api-slow",
        "GET /slower": "api-slow",
        "GET /own": "api-own",
        "GET /capped": "api-capped",
    }
    lambdas = {
        r["Properties"]["FunctionName"]: r["Properties"]
        for r in _of_type(document, "AWS::Lambda::Function").values()
    }
    assert set(lambdas) == {"api-http", "api-slow", "api-own", "api-capped", "api-tick"}
    assert lambdas["api-slow"]["Timeout"] == 25
    assert lambdas["api-http"]["Timeout"] == DEFAULT_TIMEOUT_SECONDS
    assert lambdas["api-capped"]["ReservedConcurrentExecutions"] == 2
    build(app, tmp_path, app_ref="api:app")
    assert _cfn_lint_errors(tmp_path / "template.json") == []


def test_schedules_use_rules_in_utc_and_scheduler_with_a_time_zone(doc: dict[str, Any]) -> None:
    from polyfn_aws._names import rule_name

    rules = {
        r["Properties"]["Name"]: r["Properties"]
        for r in _of_type(doc, "AWS::Events::Rule").values()
    }
    nightly = richapp.app.function("nightly")
    assert rules[rule_name(richapp.app, nightly)]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert (
        rules[rule_name(richapp.app, richapp.app.function("every_five"))]["ScheduleExpression"]
        == "rate(5 minutes)"
    )
    (schedule,) = _of_type(doc, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert props["Name"] == rule_name(richapp.app, richapp.app.function("morning"))
    assert json.loads(props["Target"]["Input"])["polyfn"]["function"] == "morning"
    # retries=1 on an asynchronously invoked function: Lambda's async retry setting.
    configs = [c["Properties"] for c in _of_type(doc, "AWS::Lambda::EventInvokeConfig").values()]
    nightly_id, _ = _function(doc, "nightly")
    (cfg,) = [c for c in configs if c["FunctionName"] == {"Ref": nightly_id}]
    assert cfg["MaximumRetryAttempts"] == 1


def test_bucket_notifications_avoid_the_circular_dependency(doc: dict[str, Any]) -> None:
    (bucket,) = _of_type(doc, "AWS::S3::Bucket").values()
    assert resolve(bucket["Properties"]["BucketName"], doc) == richapp.UPLOADS
    configs = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    upload_id, _ = _function(doc, "on_upload")
    delete_id, _ = _function(doc, "on_delete")
    assert {(c["Event"], c["Function"]["Fn::GetAtt"][0]) for c in configs} == {
        ("s3:ObjectCreated:*", upload_id),
        ("s3:ObjectRemoved:*", delete_id),
        ("s3:LifecycleExpiration:*", delete_id),  # an expiry deletes too
    }
    (created,) = [c for c in configs if c["Event"] == "s3:ObjectCreated:*"]
    assert created["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": "incoming/"},
        {"Name": "suffix", "Value": ".csv"},
    ]
    permissions = _of_type(doc, "AWS::Lambda::Permission")
    for lid in bucket["DependsOn"]:
        props = permissions[lid]["Properties"]
        assert props["Principal"] == "s3.amazonaws.com"
        # A name, not a Ref to the bucket: a Ref would close the cycle.
        assert resolve(props["SourceArn"], doc) == f"arn:aws:s3:::{richapp.UPLOADS}"
    assert len(bucket["DependsOn"]) == 2
    # dead_letter on a storage function: Lambda's on-failure destination.
    configs2 = [c["Properties"] for c in _of_type(doc, "AWS::Lambda::EventInvokeConfig").values()]
    (cfg,) = [c for c in configs2 if c["FunctionName"] == {"Ref": upload_id}]
    dlq = cfg["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert resolve(doc["Resources"][dlq]["Properties"]["QueueName"], doc) == richapp.FAILED


def test_queues_report_batch_item_failures_and_redrive(doc: dict[str, Any]) -> None:
    mappings = [m["Properties"] for m in _of_type(doc, "AWS::Lambda::EventSourceMapping").values()]
    assert len(mappings) == 2
    for m in mappings:
        assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queues = {
        resolve(q["Properties"]["QueueName"], doc): q["Properties"]
        for q in _of_type(doc, "AWS::SQS::Queue").values()
    }
    orders = queues[richapp.ORDERS]
    assert orders["RedrivePolicy"]["maxReceiveCount"] == 4  # retries=3: 1 delivery + 3
    dead = orders["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert (
        resolve(doc["Resources"][dead]["Properties"]["QueueName"], doc) == f"{richapp.ORDERS}-dead"
    )
    events = queues[f"{richapp.EVENTS}.fifo"]
    assert events["FifoQueue"] is True
    assert events["VisibilityTimeout"] == 720  # six times the 120 s function timeout
    # No declared timeout: six times polyfn's default, which the Lambda's Timeout also says.
    assert orders["VisibilityTimeout"] == 6 * DEFAULT_TIMEOUT_SECONDS
    (order_map,) = [m for m in mappings if m["BatchSize"] == 5]
    assert order_map["ScalingConfig"] == {"MaximumConcurrency": 4}


def test_subscribers_are_sns_subscriptions_each_invoked_by_the_topic_only(
    doc: dict[str, Any],
) -> None:
    (topic_id,) = _of_type(doc, "AWS::SNS::Topic")
    assert doc["Resources"][topic_id]["Properties"] == {"TopicName": richapp.NOTICES}
    subscriptions = _of_type(doc, "AWS::SNS::Subscription").values()
    permissions = [
        p["Properties"]
        for p in _of_type(doc, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "sns.amazonaws.com"
    ]
    endpoints = set()
    for name in ("audit", "notify"):
        fn_id, _ = _function(doc, name)
        (sub,) = [
            s
            for s in subscriptions
            if s["Properties"]["Endpoint"] == {"Fn::GetAtt": [fn_id, "Arn"]}
        ]
        assert sub["Properties"]["Protocol"] == "lambda"
        assert sub["Properties"]["TopicArn"] == {"Ref": topic_id}
        (permission,) = [p for p in permissions if p["FunctionName"] == {"Ref": fn_id}]
        assert permission["SourceArn"] == {"Ref": topic_id}
        assert permission["Action"] == "lambda:InvokeFunction"
        # SNS invokes only once the permission exists
        assert (
            sub["DependsOn"] and doc["Resources"][sub["DependsOn"][0]]["Properties"] == permission
        )
        endpoints.add(fn_id)
    assert len(endpoints) == 2
    # audit: retries=1 and a dead letter, as any asynchronous invocation
    audit_id, _ = _function(doc, "audit")
    (config,) = [
        c["Properties"]
        for c in _of_type(doc, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": audit_id}
    ]
    assert config["MaximumRetryAttempts"] == 1
    dlq = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert resolve(doc["Resources"][dlq]["Properties"]["QueueName"], doc) == richapp.FAILED
    assert {
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": [dlq, "Arn"]},
    } in [{k: v for k, v in st.items() if k != "Sid"} for st in _statements(doc, "audit")]


def test_a_subscriber_batch_size_warns() -> None:
    app = App("batched")
    app.subscribe("notices", batch_size=10, function_name="s")(lambda m, c: None)
    _, warnings = template(app)
    assert warnings == [
        "aws: function 's': batch_size=10: SNS invokes a Lambda with one message at a time; "
        "each message is its own invocation"
    ]


def _one(settings: dict[str, Any], kind: str = "http") -> App:
    app = App("one")

    def handler(*_: Any) -> None:
        return None

    if kind == "http":
        app.http("/x", **settings)(handler)
    elif kind == "queue":
        app.queue("q", **settings)(handler)
    else:
        app.storage("b", **settings)(handler)
    return app


@pytest.mark.parametrize(
    ("settings", "kind", "message"),
    [
        ({"memory": 64}, "http", "128-10240 MB"),
        ({"memory": 20000}, "http", "128-10240 MB"),
        ({"timeout": 901}, "http", "maximum of 900 s"),
        ({"env": {"AWS_REGION": "x"}}, "http", "reserved by the Lambda runtime"),
        ({"env": {"1BAD": "x"}}, "http", "not valid on Lambda"),
        ({"retries": 1000}, "queue", "maximum of 999 redeliveries"),
        ({"max_concurrency": 5000}, "queue", "maximum concurrency of 1000"),
    ],
)
def test_limits_are_errors(settings: dict[str, Any], kind: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        template(_one(settings, kind))


@pytest.mark.parametrize(
    ("settings", "kind", "message"),
    [
        ({"retries": 2}, "http", "no meaning for HTTP"),
        ({"timeout": 60}, "http", "longer than an HTTP API waits"),
        ({"timeout": 2.5}, "http", "rounded up to 3 s"),
        ({"retries": 5}, "storage", "at most 2 times; using 2"),
        ({"retries": 2}, "queue", "messages that fail 3 times move to 'q-dlq'"),
        ({"max_concurrency": 1}, "queue", "uses reserved concurrency"),
    ],
)
def test_settings_without_an_equivalent_warn(
    settings: dict[str, Any], kind: str, message: str
) -> None:
    _, warnings = template(_one(settings, kind))
    assert len(warnings) == 1
    assert message in warnings[0]
    assert warnings[0].startswith("aws: function 'handler':")


def test_overlapping_s3_filters_are_refused() -> None:
    app = App("overlap")
    app.storage("b", prefix="in/", function_name="one")(lambda e, c: None)
    app.storage("b", prefix="in/sub/", function_name="two")(lambda e, c: None)
    with pytest.raises(ConfigError, match="overlapping prefix"):
        template(app)


def test_build_command_writes_template_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "svc.py"
    src.write_text(
        "from polyfn import App\napp = App('svc')\n"
        "@app.http('/', retries=3)\ndef home(req, ctx):\n    return 'hi'\n"
    )
    out = tmp_path / "out"
    assert main(["build", str(src), "--provider", "aws", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"wrote {out / 'template.json'}" in captured.out
    assert "warning: aws: function 'home': retries/dead_letter have no meaning" in captured.err
    doc = json.loads((out / "template.json").read_text())
    (fn,) = _of_type(doc, "AWS::Lambda::Function").values()
    assert fn["Properties"]["Handler"] == "polyfn_entry.handler"
    assert "from svc import app as _app" in (out / "polyfn_entry.py").read_text()


def test_build_command_reports_bad_settings_in_one_paragraph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "big.py"
    src.write_text(
        "from polyfn import App\napp = App('big')\n"
        "@app.http('/', memory=20480)\ndef home(req, ctx):\n    return 'hi'\n"
    )
    assert main(["build", str(src), "--provider", "aws", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "memory=20480 MB is outside Lambda's 128-10240 MB" in err
    assert "Traceback" not in err


@pytest.mark.e2e
def test_deploy_creates_the_stack_on_moto(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    from polyfn._local._loader import load_app

    # The CLI loads APP_REF by path, as module "richapp": a separate import with its own suffix.
    app = load_app(APP_REF)
    deployed = sys.modules["richapp"]
    stack = f"polyfn-test-{deployed.SUFFIX}"
    bucket = f"polyfn-code-{deployed.SUFFIX}"
    argv = ["deploy", APP_REF, "--provider", "aws", "--endpoint-url", moto_url]
    assert main([*argv, "--stack", stack, "--bucket", bucket, "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert f"stack: {stack} (CREATE_COMPLETE)" in out

    kw: dict[str, Any] = {"endpoint_url": moto_url, "region_name": "us-east-1"}
    s3 = boto3.client("s3", **kw)
    (obj,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert obj["Key"].startswith(f"{app.name}/") and obj["Key"].endswith(".zip")
    cfn = boto3.client("cloudformation", **kw)
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    lam = boto3.client("lambda", **kw)
    names = {
        f["FunctionName"]: f
        for page in lam.get_paginator("list_functions").paginate()
        for f in page["Functions"]
    }
    for fn in app.functions:
        lambda_fn = names[_lambda_name(app, fn.name)]
        entry = "polyfn_entry" if fn.kind == "http" else f"polyfn_entry_{fn.name}"
        assert lambda_fn["Handler"] == f"{entry}.handler"
        assert lambda_fn["Runtime"] == "python3.11"
        assert lambda_fn["Timeout"] == math.ceil(fn.settings.effective_timeout)
    assert names[_lambda_name(app, "get_order")]["MemorySize"] == 256
    logs = boto3.client("logs", **kw)
    retention = {
        g["logGroupName"]: g.get("retentionInDays")
        for g in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{app.name}-")[
            "logGroups"
        ]
    }
    assert retention[f"/aws/lambda/{app.name}-http"] == 30

    mappings = lam.list_event_source_mappings()["EventSourceMappings"]
    ours = {
        m["FunctionArn"].rsplit(":", 1)[-1]: m for m in mappings if app.name in m["FunctionArn"]
    }
    assert set(ours) == {f"{app.name}-on_order", f"{app.name}-on_event"}
    assert ours[f"{app.name}-on_order"]["EventSourceArn"].endswith(f":{deployed.ORDERS}")
    assert ours[f"{app.name}-on_event"]["EventSourceArn"].endswith(f":{deployed.EVENTS}.fifo")
    for m in ours.values():
        assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    events = boto3.client("events", **kw)
    rules = {r["Name"]: r for r in events.list_rules(NamePrefix=app.name)["Rules"]}
    assert set(rules) == {f"{app.name}-nightly", f"{app.name}-every_five"}
    targets = events.list_targets_by_rule(Rule=f"{app.name}-nightly")["Targets"]
    assert [t["Arn"].rsplit(":", 1)[-1] for t in targets] == [f"{app.name}-nightly"]

    sqs = boto3.client("sqs", **kw)
    url = sqs.get_queue_url(QueueName=deployed.ORDERS)["QueueUrl"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["maxReceiveCount"] == 4

    sns = boto3.client("sns", **kw)
    (topic_arn,) = [
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{deployed.NOTICES}")
    ]
    # The subscriptions themselves are checked in the template: moto's CloudFormation accepts
    # AWS::SNS::Subscription but does not create it (moto 5.2).
    assert topic_arn.startswith("arn:aws:sns:us-east-1:")

    # A second deploy is an update, not an error; the endpoint can come from AWS_ENDPOINT_URL.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    again = ["deploy", APP_REF, "--provider", "aws", "--stack", stack, "--bucket", bucket]
    assert main([*again, "--region", "us-east-1"]) == 0
    assert f"stack: {stack} (" in capsys.readouterr().out
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"].endswith("COMPLETE")


def test_deploy_without_credentials_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    code = main(["deploy", APP_REF, "--provider", "aws", "--region", "us-east-1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no AWS credentials found" in err
    assert "Traceback" not in err


def test_every_storage_kind_passes_cfn_lint(tmp_path: Path) -> None:
    app = App("kinds")
    for i, kind in enumerate(("created", "deleted", "archived", "metadata_updated")):
        app.storage("kinds-bucket", on=[kind], function_name=f"f{i}")(lambda e, c: None)
    build(app, tmp_path, app_ref="kinds:app")
    assert _cfn_lint_errors(tmp_path / "template.json") == []


def test_entry_modules_are_left_unchanged_by_ruff_format(tmp_path: Path) -> None:
    from polyfn_aws._build import entry_files

    from polyfn import App
    from tests.build._ruff import assert_ruff_formatted

    app = App("shop")
    long_name = "a_function_name_long_enough_to_push_the_handler_line_past_79"
    for name in ("short", long_name):
        app.http(f"/{name}", function_name=name)(lambda req, ctx: None)
    for ref in ("shop.api:app", "a.deep.package.path.that.goes.on.and_on.api_module:application"):
        for file_name, source in entry_files(app, ref).items():
            path = tmp_path / ref.replace(":", "_") / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
            compile(source, str(path), "exec")
            assert_ruff_formatted(path, 79, 120)


def test_invoke_runs_with_the_timeout_the_template_writes() -> None:
    from polyfn_aws._samples import invoke, sample_event

    app = App("timed")
    left: list[float] = []

    @app.http("/t", function_name="t")
    def t(req: Any, ctx: Any) -> str:
        left.append(ctx.remaining_time().total_seconds())
        return "ok"

    (lambda_fn,) = _of_type(template(app)[0], "AWS::Lambda::Function").values()
    result, ok = invoke(app, "t", sample_event("http-api", path="/t"))
    assert ok and result["statusCode"] == 200
    # Not Lambda's 3 s: the 60 s polyfn's templates give a function that declares no timeout.
    assert lambda_fn["Properties"]["Timeout"] - 5 < left[0] <= lambda_fn["Properties"]["Timeout"]
