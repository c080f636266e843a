"""Least privilege on AWS: the resources an app names are declared, each Lambda's role holds only
what its `uses=` and trigger need, and the stack deployed on moto_server grants exactly that."""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from polyfn_aws._build import build, explain, template

from polyfn import App, Bucket, ConfigError, Queue, Table, Topic
from polyfn._cli import main
from polyfn._resources import env_name
from tests.build import richapp, usesapp
from tests.build._cfn import ACCOUNT, REGION, resolve
from tests.build.test_aws import _cfn_lint_errors

USES_REF = f"{Path(usesapp.__file__).resolve()}:app"

# The wildcards a policy may hold, each where the resource type demands it (docs/deploy.md,
# "Permissions"): a log group's log streams, a bucket's objects (under a prefix), the six random
# characters Secrets Manager appends to a secret's ARN.
DOCUMENTED_WILDCARDS = (
    re.compile(r"arn:aws:logs:[\w-]+:\d+:log-group:/aws/lambda/[\w.-]+:\*"),
    re.compile(r"arn:aws:s3:::[a-z0-9.-]+/[^*?]*\*"),
    re.compile(r"arn:aws:secretsmanager:[\w-]+:\d+:secret:[\w/+=.@-]+-\?\?\?\?\?\?"),
)


def _policies(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """FunctionName -> the statements of its role's policies, resolved."""
    out = {}
    for res in doc["Resources"].values():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        role = doc["Resources"][res["Properties"]["Role"]["Fn::GetAtt"][0]]
        out[res["Properties"]["FunctionName"]] = [
            resolve(st, doc)
            for policy in role["Properties"]["Policies"]
            for st in policy["PolicyDocument"]["Statement"]
        ]
    return out


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's evaluation for Allow-only policies: an action matches case-insensitively, `*` and
    `?` are wildcards in both (and `?` is one character)."""
    for st in statements:
        assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st
        acts, resources = _listed(st["Action"]), _listed(st["Resource"])
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in acts) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


def _samples_apps() -> list[App]:
    from polyfn._local._loader import load_app

    root = Path(__file__).resolve().parents[2]
    samples = [d / f"{d.name}_app.py" for d in sorted((root / "samples").iterdir())]
    paths = [*(p for p in samples if p.exists()), root / "tests/resources/apps/pipeline.py"]
    return [load_app(f"{p}:app") for p in paths]


@pytest.mark.parametrize("which", ["richapp", "usesapp", "samples"])
def test_no_wildcard_action_and_only_documented_wildcard_resources(which: str) -> None:
    apps = {"richapp": [richapp.app], "usesapp": [usesapp.app], "samples": _samples_apps()}[which]
    assert apps
    checked = 0
    for app in apps:
        doc, _ = template(app)
        for fn, statements in _policies(doc).items():
            for st in statements:
                for action in _listed(st["Action"]):
                    assert "*" not in action and "?" not in action, (fn, st)
                for resource in _listed(st["Resource"]):
                    checked += 1
                    assert resource != "*", (fn, st)
                    if "*" in resource or "?" in resource:
                        assert any(p.fullmatch(resource) for p in DOCUMENTED_WILDCARDS), (fn, st)
    assert checked


def test_template_with_uses_passes_cfn_lint(tmp_path: Path) -> None:
    build(usesapp.app, tmp_path, app_ref="usesapp:app")
    assert _cfn_lint_errors(tmp_path / "template.json") == []


def _declared(doc: dict[str, Any], type_: str, prop: str, stage: str = "") -> set[str]:
    return {
        resolve(r["Properties"][prop], doc, stage)
        for r in doc["Resources"].values()
        if r["Type"] == type_
    }


@pytest.mark.parametrize("stage", ["", "prod"])
def test_the_resources_the_app_names_are_declared_per_stage(stage: str) -> None:
    doc, _ = template(usesapp.app)
    assert doc["Parameters"]["Stage"]["Default"] == ""
    s = f"-{stage}" if stage else ""
    u = usesapp
    assert _declared(doc, "AWS::S3::Bucket", "BucketName", stage) == {
        u.uploads.name + s,
        u.reports.name + s,
    }
    assert _declared(doc, "AWS::SQS::Queue", "QueueName", stage) == {
        u.orders.name + s,
        f"{u.billing.name}{s}.fifo",
        f"{u.orders.name}-dlq{s}",
    }
    assert _declared(doc, "AWS::SNS::Topic", "TopicName", stage) == {u.events.name + s}
    (table,) = [r for r in doc["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert resolve(table["Properties"]["TableName"], doc, stage) == u.carts.name + s
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["Properties"]["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"}
    ]
    (queue,) = [
        r
        for r in doc["Resources"].values()
        if resolve(r["Properties"].get("QueueName"), doc) == u.orders.name
    ]
    dlq = resolve(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"], doc)
    assert dlq.endswith(f":{u.orders.name}-dlq")
    # Each Lambda's environment names the stage's resources it uses.
    env = {
        resolve(r["Properties"]["FunctionName"], doc): resolve(
            r["Properties"].get("Environment", {}).get("Variables", {}), doc, stage
        )
        for r in doc["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    name = u.app.name
    assert env[f"{name}-http"] == {
        u.carts.env_var: u.carts.name + s,
        u.events.env_var: u.events.name + s,
    }
    assert env[f"{name}-pay"] == {
        u.stripe.env_var: u.stripe.name + s,
        u.billing.env_var: u.billing.name + s,  # the adapter appends .fifo
    }
    assert env[f"{name}-on_upload"] == {
        u.uploads.env_var: u.uploads.name + s,
        u.reports.env_var: u.reports.name + s,
        u.orders.env_var: u.orders.name + s,
    }


# What each function declares: the actions its role must allow, on which resource.
def _expected(app_name: str, arns: dict[str, str]) -> dict[str, dict[str, set[str]]]:
    up, rep = arns["uploads"], arns["reports"]
    return {
        f"{app_name}-http": {
            "dynamodb:GetItem": {arns["carts"]},
            "dynamodb:PutItem": {arns["carts"]},
            "sns:Publish": {arns["events"]},
        },
        f"{app_name}-pay": {
            "secretsmanager:GetSecretValue": {arns["stripe"]},
            "sqs:SendMessage": {arns["billing"]},
            "sqs:GetQueueUrl": {arns["billing"]},
            "sqs:GetQueueAttributes": {arns["billing"]},
        },
        f"{app_name}-on_upload": {
            "s3:GetObject": {f"{up}/a/b.csv"},
            "s3:PutObject": {f"{rep}/x.json"},
            "sqs:SendMessage": {arns["orders"]},
            "sqs:GetQueueUrl": {arns["orders"]},
            "sqs:GetQueueAttributes": {arns["orders"]},
        },
        f"{app_name}-on_order": {
            "s3:ListBucket": {rep},
            "s3:DeleteObject": {f"{rep}/x.json"},
            "dynamodb:DeleteItem": {arns["carts"]},
            "sqs:ReceiveMessage": {arns["orders"]},
            "sqs:DeleteMessage": {arns["orders"]},
            "sqs:GetQueueAttributes": {arns["orders"]},
            "sqs:ChangeMessageVisibility": {arns["orders"]},
        },
    }


_EVERY_ACTION = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "s3:DeleteBucket",
    "sqs:SendMessage",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:PurgeQueue",
    "sns:Publish",
    "sns:Subscribe",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:Scan",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
)


def _check_exact(
    app_name: str, policies: dict[str, list[dict[str, Any]]], arns: dict[str, str]
) -> None:
    """Each declared action is allowed on its resource; every other action on every resource
    of the app is not."""
    expected = _expected(app_name, arns)
    every_resource = {*arns.values(), f"{arns['uploads']}/a/b.csv", f"{arns['reports']}/x.json"}
    for fn, wanted in expected.items():
        statements = [st for st in policies[fn] if not str(st.get("Sid")).startswith("Logs")]
        for action, resources in wanted.items():
            for resource in resources:
                assert _allows(statements, action, resource), (fn, action, resource)
        for action in _EVERY_ACTION:
            for resource in every_resource:
                if resource in wanted.get(action, set()):
                    continue
                assert not _allows(statements, action, resource), (fn, action, resource)


def _template_arns() -> dict[str, str]:
    arn = f"{REGION}:{ACCOUNT}"
    u = usesapp
    return {
        "uploads": f"arn:aws:s3:::{u.uploads.name}",
        "reports": f"arn:aws:s3:::{u.reports.name}",
        "orders": f"arn:aws:sqs:{arn}:{u.orders.name}",
        "billing": f"arn:aws:sqs:{arn}:{u.billing.name}.fifo",
        "events": f"arn:aws:sns:{arn}:{u.events.name}",
        "carts": f"arn:aws:dynamodb:{arn}:table/{u.carts.name}",
        "stripe": f"arn:aws:secretsmanager:{arn}:secret:{u.stripe.name}-AbC123",
    }


def test_each_role_allows_exactly_what_its_functions_declare() -> None:
    doc, _ = template(usesapp.app)
    _check_exact(usesapp.app.name, _policies(doc), _template_arns())


def test_a_role_does_not_reach_a_secret_whose_name_only_starts_alike() -> None:
    doc, _ = template(usesapp.app)
    statements = _policies(doc)[f"{usesapp.app.name}-pay"]
    arn = _template_arns()["stripe"]
    assert _allows(statements, "secretsmanager:GetSecretValue", arn)
    longer = arn.replace("-AbC123", "-prod-AbC123")
    assert not _allows(statements, "secretsmanager:GetSecretValue", longer)


def test_explain_names_each_grant_and_its_declaration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = explain(usesapp.app)
    u = usesapp
    http = f"{u.app.name}-http"
    assert f"{http} (role HttpRole; serves get_cart, put_cart: the union of their uses=)" in text
    assert (
        f"dynamodb:GetItem on arn:aws:dynamodb:<region>:<account>:table/{u.carts.name}[-<Stage>]"
        f"  <- uses={u.carts.name}.get in get_cart; uses={u.carts.name}.put in put_cart"
    ) in text
    assert (
        f"s3:GetObject on arn:aws:s3:::{u.uploads.name}[-<Stage>]/*  <- trigger of on_upload"
        in (text)
    )
    argv = ["build", USES_REF, "--provider", "aws", "--out", str(tmp_path / "out"), "--explain"]
    assert main(argv) == 0
    assert "sns:Publish on arn:aws:sns:<region>:<account>:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        (Bucket("Uploads"), "S3 bucket names hold only lowercase letters"),
        (Queue("orders.v2"), "SQS queue names hold only letters"),
        (Topic("a" * 257), "SNS topic names are 1 to 256 characters long"),
        (Table("ab"), "DynamoDB table names are 3 to 255 characters long"),
    ],
)
def test_a_name_aws_cannot_accept_is_refused_naming_the_function(handle: Any, message: str) -> None:
    app = App("bad")
    op = getattr(handle, handle.OPERATIONS[0])

    @app.schedule("0 1 * * *", uses=[op])
    def nightly(event: Any, ctx: Any) -> None: ...

    with pytest.raises(ConfigError, match=message) as info:
        template(app)
    assert "function 'nightly'" in str(info.value) and "Rename the handle" in str(info.value)


def test_deployed_roles_allow_exactly_the_declared_actions(
    moto_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    from polyfn._local._loader import load_app

    load_app(USES_REF)
    deployed = sys.modules["usesapp"]
    stack = f"polyfn-uses-{deployed.SUFFIX}"
    argv = ["deploy", USES_REF, "--provider", "aws", "--endpoint-url", moto_url]
    bucket = f"polyfn-code-{deployed.SUFFIX}"
    assert main([*argv, "--stack", stack, "--bucket", bucket, "--region", REGION]) == 0
    assert f"stack: {stack} (CREATE_COMPLETE)" in capsys.readouterr().out

    kw: dict[str, Any] = {"endpoint_url": moto_url, "region_name": REGION}
    lam, iam = boto3.client("lambda", **kw), boto3.client("iam", **kw)
    sqs, sns = boto3.client("sqs", **kw), boto3.client("sns", **kw)
    ddb = boto3.client("dynamodb", **kw)
    app_name = deployed.app.name
    policies: dict[str, list[dict[str, Any]]] = {}
    env: dict[str, dict[str, str]] = {}
    for suffix in ("http", "pay", "on_upload", "on_order"):
        config = lam.get_function_configuration(FunctionName=f"{app_name}-{suffix}")
        role = config["Role"].rsplit("/", 1)[-1]
        statements: list[dict[str, Any]] = []
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            if isinstance(document, str):
                # moto keeps a policy that CloudFormation created as the str() of its dict.
                import ast

                document = ast.literal_eval(document)
            statements += document["Statement"]
        assert not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        policies[f"{app_name}-{suffix}"] = statements
        env[suffix] = config.get("Environment", {}).get("Variables", {})

    def queue_arn(name: str) -> str:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attrs["Attributes"]["QueueArn"])

    (topic,) = [
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{deployed.events.name}")
    ]
    account = topic.split(":")[4]
    arns = {
        "uploads": f"arn:aws:s3:::{deployed.uploads.name}",
        "reports": f"arn:aws:s3:::{deployed.reports.name}",
        "orders": queue_arn(deployed.orders.name),
        "billing": queue_arn(f"{deployed.billing.name}.fifo"),
        "events": topic,
        "carts": ddb.describe_table(TableName=deployed.carts.name)["Table"]["TableArn"],
        "stripe": f"arn:aws:secretsmanager:{REGION}:{account}:secret:{deployed.stripe.name}-Xy9Z0a",
    }
    boto3.client("s3", **kw).head_bucket(Bucket=deployed.reports.name)
    _check_exact(app_name, policies, arns)
    assert env["pay"][env_name("secret", deployed.stripe.name)] == deployed.stripe.name
