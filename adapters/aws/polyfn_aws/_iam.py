"""The resources an app names and each Lambda's least-privilege policy, for the AWS template.

`polyfn_aws._build` calls three hooks:

- `declare_resources` puts every resource the app names into the template (handles in ``uses=``
  and the triggers' buckets and queues): SQS queues, SNS topics, DynamoDB tables with the String
  partition key ``pk``. Buckets are declared here unless a storage trigger declares them with
  their notifications. Secrets are references only: a secret's value does not belong in a
  template, so the secret is created beside the stack (``aws secretsmanager create-secret``) and
  the policy names its ARN.
- `grant_uses` adds to one Lambda's role the actions its functions' ``uses=`` need, each on that
  resource's ARN, and maps ``POLYFN_<KIND>_<NAME>`` to the physical name in its environment. A
  Lambda that serves several HTTP routes gets the union of their declarations (one Lambda has one
  role).
- `label_statements` names every policy statement (``Sid``) after its cause, which
  ``polyfn build --explain`` prints.

Physical names depend on the ``Stage`` parameter: ``<name>`` when it is empty (the default),
``<name>-<stage>`` otherwise (``<name>-<stage>.fifo`` for FIFO queues and topics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._grants import Grant, app_resources, check_clashes, check_names
from polyfn._resources import Bucket, Queue

if TYPE_CHECKING:
    from polyfn._app import App, Function
    from polyfn._resources import Operation, Resource

STAGE_PARAMETER = "Stage"
HAS_STAGE = "HasStage"
# Stage names: lowercase letters, digits and hyphens, so that "<bucket>-<stage>" stays a valid S3
# bucket name (lowercase only) and every other service's rules hold too.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
STAGE_PATTERN = "^([a-z0-9][a-z0-9-]{0,14}[a-z0-9]|[a-z0-9]?)$"
STAGE_MAX = 16
FIFO_SUFFIX = ".fifo"

# What each `uses=` token needs, as IAM actions, and what they act on ("object": the bucket's
# objects, "bucket": the bucket itself, "resource": the queue, topic, table or secret).
# Actions, resource types and ARN formats: the Service Authorization Reference.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
# HeadObject needs s3:GetObject; ListObjectsV2 needs s3:ListBucket on the bucket; a presigned URL
# carries its signer's permission for GetObject or PutObject. A queue send reads the queue's URL
# (GetQueueUrl) and its MaximumMessageSize (GetQueueAttributes) once per process. An unconditional
# Table.put reads the item's version first (GetItem).
ACTIONS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("bucket", "read"): (("s3:GetObject", "object"),),
    ("bucket", "info"): (("s3:GetObject", "object"),),
    ("bucket", "write"): (("s3:PutObject", "object"),),
    ("bucket", "delete"): (("s3:DeleteObject", "object"),),
    ("bucket", "list"): (("s3:ListBucket", "bucket"),),
    ("bucket", "signed_url"): (("s3:GetObject", "object"), ("s3:PutObject", "object")),
    ("queue", "send"): (
        ("sqs:SendMessage", "resource"),
        ("sqs:GetQueueUrl", "resource"),
        ("sqs:GetQueueAttributes", "resource"),
    ),
    ("queue", "send_batch"): (
        ("sqs:SendMessage", "resource"),
        ("sqs:GetQueueUrl", "resource"),
        ("sqs:GetQueueAttributes", "resource"),
    ),
    ("topic", "publish"): (("sns:Publish", "resource"),),
    ("table", "get"): (("dynamodb:GetItem", "resource"),),
    ("table", "put"): (("dynamodb:PutItem", "resource"), ("dynamodb:GetItem", "resource")),
    ("table", "delete"): (("dynamodb:DeleteItem", "resource"),),
    ("secret", "value"): (("secretsmanager:GetSecretValue", "resource"),),
}

# Secrets Manager appends "-" and six random characters to a secret's name in its ARN; IAM
# policies name a secret by its name with "-??????" (six single-character wildcards, not "*").
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
SECRET_ARN_SUFFIX = "-??????"

# The only wildcards polyfn's policies hold, each where the resource type demands it:
# - "arn:...:log-group:/aws/lambda/<function>:*": a log group's log streams (CreateLogStream and
#   PutLogEvents act on log-stream resources, which Lambda names at run time).
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
# - "arn:...:s3:::<bucket>/*" (or "<prefix>*"): the bucket's objects; object keys are data.
# - "secret:<name>-??????": the random suffix of a secret's ARN (above).
# No action is ever a wildcard, and no resource is "*".
RESOURCE_WILDCARDS = (":log-group:/aws/lambda/", ":s3:::", ":secret:")


def staged(name: str) -> dict[str, Any]:
    """The physical name of resource `name` in the template: `name` without a stage,
    ``<name>-<stage>`` (before ``.fifo``) with one."""
    base, fifo = (
        (name[: -len(FIFO_SUFFIX)], FIFO_SUFFIX) if name.endswith(FIFO_SUFFIX) else (name, "")
    )
    return {"Fn::If": [HAS_STAGE, {"Fn::Sub": f"{base}-${{{STAGE_PARAMETER}}}{fifo}"}, name]}


def staged_text(name: str) -> str:
    """How `--explain` shows a staged name: ``uploads[-<Stage>]``."""
    base, fifo = (
        (name[: -len(FIFO_SUFFIX)], FIFO_SUFFIX) if name.endswith(FIFO_SUFFIX) else (name, "")
    )
    return f"{base}[-<{STAGE_PARAMETER}>]{fifo}"


def parameters() -> dict[str, Any]:
    return {
        STAGE_PARAMETER: {
            "Type": "String",
            "Description": (
                "Deployment stage: appended to every resource's name (<name>-<stage>); empty "
                "keeps the names as the app declares them"
            ),
            "Default": "",
            "AllowedPattern": STAGE_PATTERN,
            "MaxLength": STAGE_MAX,
        }
    }


def conditions() -> dict[str, Any]:
    return {HAS_STAGE: {"Fn::Not": [{"Fn::Equals": [{"Ref": STAGE_PARAMETER}, ""]}]}}


def physical(handle: Resource) -> str:
    """The AWS name a handle's resource has without a stage: a FIFO queue's ends in .fifo."""
    if isinstance(handle, Queue) and handle.fifo and not handle.name.endswith(FIFO_SUFFIX):
        return handle.name + FIFO_SUFFIX
    return handle.name


def check(app: App) -> None:
    """Refuse names AWS cannot accept and handles that would be one AWS resource."""
    from polyfn_aws._resources import broken_name_rule

    check_names(app, "AWS", lambda kind, name: broken_name_rule(kind, _aws_name(kind, name)))
    # Each kind is its own AWS service, so two kinds never meet; a queue declared both FIFO and
    # standard is refused by app_resources.
    check_clashes(app, "AWS", lambda handle: None)


def _aws_name(kind: str, name: str) -> str:
    return name


def declare_resources(t: Any, trigger_buckets: set[str]) -> None:
    """Declare each resource the app names, once (queues through the template's `queue`)."""
    for handle in app_resources(t.app).values():
        if handle.kind == "queue":
            assert isinstance(handle, Queue)
            t.queue(physical(handle), fifo=handle.fifo)
        elif handle.kind == "bucket" and handle.name not in trigger_buckets:
            t.add(
                t.ids(handle.name, "bucket"), "AWS::S3::Bucket", {"BucketName": staged(handle.name)}
            )
        elif handle.kind == "topic":
            topic(t, handle.name)
        elif handle.kind == "table":
            t.add(
                t.ids(handle.name, "table"),
                "AWS::DynamoDB::Table",
                {
                    "TableName": staged(handle.name),
                    # One String partition key, pk (polyfn_aws._resources.TABLE_KEY).
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            )


def topic(t: Any, name: str) -> str:
    """The logical id of the SNS topic `name`, declared once."""
    logical: str = t.ids(name, "topic")
    if logical not in t.resources:
        props: dict[str, Any] = {"TopicName": staged(name)}
        if name.endswith(FIFO_SUFFIX):
            props["FifoTopic"] = True
        t.add(logical, "AWS::SNS::Topic", props)
    return logical


def _arn(t: Any, handle: Resource, target: str) -> dict[str, Any]:
    name = physical(handle)
    if handle.kind == "bucket":
        path = "${Name}/*" if target == "object" else "${Name}"
        return {"Fn::Sub": [f"arn:${{AWS::Partition}}:s3:::{path}", {"Name": staged(name)}]}
    if handle.kind == "queue":
        return {"Fn::GetAtt": [t.queue(name, fifo=name.endswith(FIFO_SUFFIX)), "Arn"]}
    if handle.kind == "topic":
        return {"Ref": topic(t, name)}
    if handle.kind == "table":
        return {"Fn::GetAtt": [t.ids(name, "table"), "Arn"]}
    return {
        "Fn::Sub": [
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
            f"${{Name}}{SECRET_ARN_SUFFIX}",
            {"Name": staged(name)},
        ]
    }


def _cause(op: Operation, fn: Function) -> str:
    return f"uses={op} in {fn.name}"


def grant_uses(
    t: Any, role_id: str, fn_id: str, functions: list[Function], statements: list[dict[str, Any]]
) -> None:
    """Add the ``uses=`` actions of `functions` (the functions one Lambda serves) to its policy
    `statements`, one statement per resource, and their physical names to its environment."""
    by_resource: dict[tuple[str, str, str], tuple[Resource, str, dict[str, list[str]]]] = {}
    env: dict[str, Any] = {}
    for fn in functions:
        source = fn.trigger
        bucket = getattr(source, "bucket", None)
        if isinstance(bucket, str):
            env[Bucket(bucket).env_var] = staged(bucket)
        for op in fn.uses:
            handle = op.resource
            env[handle.env_var] = staged(handle.name)
            for action, target in ACTIONS[(handle.kind, op.name)]:
                entry = by_resource.setdefault(
                    (handle.kind, handle.name, target), (handle, target, {})
                )
                causes = entry[2].setdefault(action, [])
                if _cause(op, fn) not in causes:
                    causes.append(_cause(op, fn))
    for (kind, name, target), (handle, _, actions) in by_resource.items():
        sid = t.ids("uses", kind, name, target, role_id)
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": _arn(t, handle, target),
            }
        )
        shown = _shown(handle, target)
        t.grants.setdefault(role_id, []).extend(
            Grant(action, shown, "; ".join(actions[action])) for action in sorted(actions)
        )
    if env:
        props = t.resources[fn_id]["Properties"]
        variables = props.setdefault("Environment", {"Variables": {}})["Variables"]
        for key, value in env.items():
            variables.setdefault(key, value)


def _shown(handle: Resource, target: str) -> str:
    name = staged_text(physical(handle))
    shown = {
        "bucket": f"arn:aws:s3:::{name}" + ("/*" if target == "object" else ""),
        "queue": f"arn:aws:sqs:<region>:<account>:{name}",
        "topic": f"arn:aws:sns:<region>:<account>:{name}",
        "table": f"arn:aws:dynamodb:<region>:<account>:table/{name}",
        "secret": f"arn:aws:secretsmanager:<region>:<account>:secret:{name}{SECRET_ARN_SUFFIX}",
    }
    return shown[handle.kind]


def label_statements(t: Any, role_id: str, functions: list[Function]) -> None:
    """Name the statements the builder wrote for the Lambda's log group and its trigger, and
    record them for --explain beside the ``uses=`` grants."""
    role = t.resources[role_id]["Properties"]
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    names = ", ".join(fn.name for fn in functions)
    own: list[Grant] = []
    for index, statement in enumerate(statements):
        if "Sid" in statement:
            continue
        logs = index == 0
        statement["Sid"] = "Logs" if logs else f"Trigger{index}"
        acts = statement["Action"]
        cause = "its own log group" if logs else f"trigger of {names}"
        shown = _resource_text(t, statement["Resource"])
        own.extend(Grant(a, shown, cause) for a in ([acts] if isinstance(acts, str) else acts))
    t.grants[role_id] = own + t.grants.get(role_id, [])


def _resource_text(t: Any, resource: Any) -> str:
    """A readable form of a policy's Resource value for --explain."""
    if isinstance(resource, str):
        return resource
    if "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        text = sub if isinstance(sub, str) else sub[0]
        if not isinstance(sub, str):
            text = text.replace("${Name}", staged_text(sub[1]["Name"]["Fn::If"][2]))
        return (
            text.replace("${AWS::Partition}", "aws")
            .replace("${AWS::Region}", "<region>")
            .replace("${AWS::AccountId}", "<account>")
        )
    logical = resource.get("Fn::GetAtt", [resource.get("Ref")])[0]
    declared = t.resources[logical]
    service = {"AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns"}[declared["Type"]]
    props = declared["Properties"]
    name = (props.get("QueueName") or props["TopicName"])["Fn::If"][2]
    return f"arn:aws:{service}:<region>:<account>:{staged_text(name)}"
