"""`build`: a plain CloudFormation template that deploys a polyfn app on AWS Lambda.

One Lambda function for the app's HTTP routes, behind one HTTP API (routes split off only when
their settings differ or they ask to: `polyfn._groups`), and one per schedule, storage, queue and
subscriber function; each Lambda has its own least-privilege IAM role and its own log group. HTTP
Lambdas run the whole-app entry (``handler = polyfn_aws.handler(app)``), the others one entry
module each (``handler = polyfn_aws.handler(app, function="name")``); EventBridge rules (or
EventBridge Scheduler schedules, for time zones) for schedules, S3 buckets with notifications for
storage functions, SQS queues with event source mappings for queue functions and SNS topics with
one Lambda subscription per subscriber function. The function code is a zip in S3, named by the
``CodeBucket`` and ``CodeKey`` parameters (`polyfn package` writes it, `polyfn deploy` uploads it).

Settings map to Lambda's terms; what Lambda cannot honour is a returned warning, what exceeds a
limit is a `ConfigError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, assert_never

from polyfn._app import (
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    SubscribeTrigger,
)
from polyfn._errors import ConfigError
from polyfn._generated import write_entry
from polyfn._grants import explain as _explain
from polyfn._groups import HttpGroup, http_groups
from polyfn_aws import _iam

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

    from polyfn._app import App, Function, Settings
    from polyfn._grants import Grant

# The runtime the package's wheels are built for (polyfn._package installs cp311 manylinux2014
# x86_64 wheels). https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
RUNTIME = "python3.11"
ARCHITECTURE = "x86_64"

# Lambda quotas: memory 128-10,240 MB, timeout up to 900 seconds, function names up to 64
# characters. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10240
TIMEOUT_MAX_S = 900
FUNCTION_NAME_MAX = 64

# An HTTP API waits at most 30 seconds for an integration.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
HTTP_API_TIMEOUT_S = 30

# Asynchronous invocation (S3 notifications, EventBridge, EventBridge Scheduler): Lambda retries a
# failed event 0-2 times, then sends it to the on-failure destination.
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
ASYNC_RETRIES_MAX = 2

# SQS: a message goes to the dead-letter queue after maxReceiveCount receives (1-1000);
# with a DLQ but no retries setting, polyfn uses 5 receives (Azure's maxDequeueCount default, so
# one declaration behaves alike on both). Visibility timeout at least six times the function
# timeout, as the SQS event source docs recommend; at most 12 hours.
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
SQS_MAX_RECEIVE_MAX = 1000
SQS_DEFAULT_MAX_RECEIVE = 5
SQS_VISIBILITY_FACTOR = 6
SQS_VISIBILITY_MIN_S = 30
SQS_VISIBILITY_MAX_S = 43200

# Log groups keep events forever unless told otherwise; polyfn declares each function's group with
# a retention, a template parameter (LogRetentionInDays) of the values CloudWatch Logs accepts.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-loggroup.html
LOG_RETENTION_PARAMETER = "LogRetentionInDays"
LOG_RETENTION_DEFAULT_DAYS = 30
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

# Event source mapping for SQS: batch size 1-10,000 for standard queues (above 10 needs a batching
# window), 1-10 for FIFO; ScalingConfig.MaximumConcurrency 2-1000.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html
SQS_BATCH_MAX = 10000
SQS_FIFO_BATCH_MAX = 10
SQS_BATCH_WINDOW_S = 1
ESM_MAX_CONCURRENCY_MIN = 2
ESM_MAX_CONCURRENCY_MAX = 1000

# SNS invokes a subscribed Lambda asynchronously with one record per invocation, so Lambda's
# asynchronous retries and on-failure destination apply (retries 0-2, as above).
# https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html
# https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
SNS_RECORDS_PER_INVOCATION = 1

# polyfn storage kinds -> S3 notification event types.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
# The same grouping as the adapter's reading of S3 event names (polyfn_aws._storage): lifecycle
# expirations are deletions, transitions and Intelligent-Tiering archive moves are "archived".
S3_EVENTS: dict[str, tuple[str, ...]] = {
    "created": ("s3:ObjectCreated:*",),
    "deleted": ("s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"),
    "archived": ("s3:LifecycleTransition", "s3:IntelligentTiering"),
    "metadata_updated": ("s3:ObjectTagging:*", "s3:ObjectAcl:Put"),
}

# Variables the Lambda runtime sets itself; a function may not define them.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

TEMPLATE_FILE = "template.json"
# The whole-app entry module every HTTP Lambda runs, and the prefix of the per-function ones.
HTTP_ENTRY = "polyfn_entry"
ENTRY_PREFIX = "polyfn_entry_"

_ASSUME_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def _sub_named(text: str, name: str) -> dict[str, Any]:
    """`text` with ``${Name}`` the stage's physical name of resource `name`."""
    return {"Fn::Sub": [text, {"Name": _iam.staged(name)}]}


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def function_name(app: App, fn: Function | HttpGroup) -> str:
    """The Lambda function name of `fn` (or of a group of HTTP functions, ``<app>-http`` for the
    shared one): ``<app>-<function>``, shortened with a hash if long."""
    name = f"{app.name}-{fn.name}"
    if len(name) <= FUNCTION_NAME_MAX:
        return name
    import hashlib

    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: FUNCTION_NAME_MAX - 9]}-{digest}"


def entry_module(fn: Function) -> str:
    """The module (file stem) of `fn`'s Lambda entry point: the whole-app entry for HTTP
    functions, a module of its own for the others."""
    if isinstance(fn.trigger, HttpTrigger):
        return HTTP_ENTRY
    return ENTRY_PREFIX + fn.name.replace("-", "_")


def entry_files(app: App, app_ref: str) -> dict[str, str]:
    """The generated entry modules: file name -> source. One whole-app module that every HTTP
    Lambda runs (API Gateway sends each Lambda only its routes), one per other function."""
    import json

    module, _, attr = app_ref.partition(":")
    if module.split(".")[0] == HTTP_ENTRY or module.startswith(ENTRY_PREFIX):
        raise ConfigError(
            f"APP {app_ref!r}: module names starting with {HTTP_ENTRY!r} are the generated "
            "Lambda entry modules; rename your module"
        )
    others = [fn for fn in app.functions if not isinstance(fn.trigger, HttpTrigger)]
    modules = [entry_module(fn) for fn in others]
    if len(set(modules)) != len(modules):
        raise ConfigError(
            f"app {app.name!r} has function names that differ only in '-' and '_' "
            f"({', '.join(fn.name for fn in others)}); Lambda entry modules need them "
            "distinct: rename one"
        )
    files = {}
    imported = _fitted(f"from {module} import ", f"{attr or 'app'} as _app", bare=True)
    header = 'Generated by `polyfn build`.\n"""\n\nimport polyfn_aws\n'
    if len(others) < len(app.functions):
        files[f"{HTTP_ENTRY}.py"] = (
            f'"""Lambda entry of the HTTP routes of polyfn app {app.name!r}.\n\n'
            f"{header}{imported}\n\nhandler = polyfn_aws.handler(_app)\n"
        )
    for fn in others:
        handler = _fitted("handler = polyfn_aws.handler", f"_app, function={json.dumps(fn.name)}")
        files[f"{entry_module(fn)}.py"] = (
            f'"""Lambda entry of function {fn.name!r} of polyfn app {app.name!r}.\n\n'
            f"{header}{imported}\n\n{handler}\n"
        )
    return files


# Entry modules must be code that `ruff format` (and black) leave unchanged in the user's
# repository: a statement longer than PEP 8's 79 columns is written exploded, one item a line
# with a trailing comma, which the formatters keep at any line length.
# https://docs.astral.sh/ruff/formatter/#style-guide
_FITS = 79


def _fitted(head: str, items: str, *, bare: bool = False) -> str:
    """`head(items)` on one line if it fits (`head items` for an import), else exploded."""
    one_line = f"{head}{items}" if bare else f"{head}({items})"
    if len(one_line) <= _FITS:
        return one_line
    lines = "".join(f"    {item.strip()},\n" for item in items.split(", "))
    return f"{head}(\n{lines})"


def requirements(app: App) -> list[str]:
    """Third-party distributions a Lambda package of `app` needs (none for polyfn_aws itself)."""
    from polyfn_aws._provider import provider

    return provider.requirements(app)


class _Ids:
    """CloudFormation logical IDs (alphanumeric) derived from names, kept unique."""

    def __init__(self) -> None:
        self._taken: dict[str, str] = {}

    def __call__(self, *parts: str) -> str:
        key = "\0".join(parts)
        text = "".join(
            "".join(ch for ch in word.title() if ch.isalnum())
            for part in parts
            for word in part.replace("-", " ").replace("_", " ").replace(".", " ").split()
        )
        candidate, n = text, 1
        while self._taken.get(candidate, key) != key:
            n += 1
            candidate = f"{text}{n}"
        self._taken[candidate] = key
        return candidate


class _Template:
    def __init__(self, app: App) -> None:
        self.app = app
        self.ids = _Ids()
        self.resources: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.queues: dict[str, str] = {}  # physical queue name -> logical id
        self.topics: dict[str, str] = {}  # topic name -> logical id
        # role logical id -> what it grants and why (polyfn build --explain), and the Lambdas:
        # (role logical id, function name, the polyfn functions it serves).
        self.grants: dict[str, list[Grant]] = {}
        self.lambdas: list[tuple[str, str, list[Function]]] = []

    def add(self, logical_id: str, type_: str, props: dict[str, Any], **extra: Any) -> str:
        self.resources[logical_id] = {"Type": type_, "Properties": props, **extra}
        return logical_id

    def queue(self, physical: str, *, fifo: bool) -> str:
        """The logical id of the SQS queue `physical`, declared once."""
        if physical not in self.queues:
            props: dict[str, Any] = {"QueueName": _iam.staged(physical)}
            if fifo:
                props["FifoQueue"] = True
            self.queues[physical] = self.add(self.ids(physical, "queue"), "AWS::SQS::Queue", props)
        return self.queues[physical]

    def permission(
        self, logical_id: str, fn_id: str, principal: str, source_arn: Any, **extra: Any
    ) -> str:
        """A permission for `principal` to invoke the function `fn_id` from `source_arn` only."""
        props = {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": fn_id},
            "Principal": principal,
            "SourceArn": source_arn,
            **extra,
        }
        return self.add(logical_id, "AWS::Lambda::Permission", props)

    def topic(self, name: str) -> str:
        """The logical id of the SNS topic `name`, declared once for all its subscribers."""
        if name not in self.topics:
            self.topics[name] = self.add(
                self.ids(name, "topic"), "AWS::SNS::Topic", {"TopicName": name}
            )
        return self.topics[name]

    def warn(self, fn: Function, message: str) -> None:
        self.warnings.append(f"aws: function {fn.name!r}: {message}")


def template(app: App) -> tuple[dict[str, Any], list[str]]:
    """The CloudFormation template for `app` and the warnings of settings Lambda cannot honour."""
    document, t = _template(app)
    return document, t.warnings


def explain(app: App) -> str:
    """What each Lambda's role grants and the declaration behind each grant (--explain)."""
    return _explain_text(_template(app)[1])


def _explain_text(t: _Template) -> str:
    return _explain(
        "aws",
        [(_unit(name, role, fns), t.grants.get(role, [])) for role, name, fns in t.lambdas],
    )


def _unit(name: str, role: str, functions: list[Function]) -> str:
    if len(functions) == 1:
        return f"{name} (role {role})"
    # One Lambda, one role: the routes it serves share the union of their uses=.
    served = ", ".join(fn.name for fn in functions)
    return f"{name} (role {role}; serves {served}: the union of their uses=)"


def _template(app: App) -> tuple[dict[str, Any], _Template]:
    _iam.check(app)
    t = _Template(app)
    _iam.declare_resources(
        t, {fn.trigger.bucket for fn in app.functions if isinstance(fn.trigger, StorageTrigger)}
    )
    groups = http_groups(app)
    if groups:
        api_id = t.add(
            "HttpApi",
            "AWS::ApiGatewayV2::Api",
            {"Name": app.name, "ProtocolType": "HTTP", "Description": f"polyfn app {app.name}"},
        )
        t.add(
            "HttpApiDefaultStage",
            "AWS::ApiGatewayV2::Stage",
            {"ApiId": {"Ref": api_id}, "StageName": "$default", "AutoDeploy": True},
        )
        t.outputs["ApiUrl"] = {
            "Description": "The URL clients call: every HTTP route of the app is under it",
            "Value": _sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
        }
        for group in groups:
            _http_group(t, group, api_id)
    buckets: dict[str, list[tuple[Function, str, str]]] = {}
    for fn in app.functions:
        if not isinstance(fn.trigger, HttpTrigger):
            _function(t, fn, buckets)
    for bucket, configs in buckets.items():
        _bucket(t, bucket, configs)
    for role, _, functions in t.lambdas:
        _iam.label_statements(t, role, functions)
    document = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"polyfn app {app.name} (generated by polyfn build)",
        "Parameters": {
            "CodeBucket": {
                "Type": "String",
                "Description": "S3 bucket holding the deployment zip (polyfn package)",
            },
            "CodeKey": {"Type": "String", "Description": "S3 key of the deployment zip"},
            LOG_RETENTION_PARAMETER: {
                "Type": "Number",
                "Description": "How many days each function's log group keeps its events",
                "Default": LOG_RETENTION_DEFAULT_DAYS,
                "AllowedValues": list(LOG_RETENTION_DAYS),
            },
            **_iam.parameters(),
        },
        "Conditions": _iam.conditions(),
        "Resources": t.resources,
    }
    if t.outputs:
        document["Outputs"] = t.outputs
    return document, t


def _lambda(
    t: _Template,
    *,
    base: str,
    name: str,
    description: str,
    handler: str,
    settings: Settings,
    statements: list[dict[str, Any]],
    reserved_concurrency: bool,
    functions: list[Function],
) -> tuple[str, int]:
    """Declare a Lambda function with its log group and its role (whose policy is `statements`,
    plus writing to that log group); returns its logical id and its timeout in seconds."""
    import math

    log_group = t.add(
        f"{base}LogGroup",
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": f"/aws/lambda/{name}",
            "RetentionInDays": {"Ref": LOG_RETENTION_PARAMETER},
        },
    )
    role = f"{base}Role"
    fn_id = f"{base}Function"
    props: dict[str, Any] = {
        "FunctionName": name,
        "Description": description,
        "Runtime": RUNTIME,
        "Architectures": [ARCHITECTURE],
        "Handler": f"{handler}.handler",
        "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
        "Role": _arn(role),
    }
    s = settings
    if s.memory is not None:
        if not MEMORY_MIN_MB <= s.memory <= MEMORY_MAX_MB:
            raise ConfigError(
                f"{description}: memory={s.memory} MB is outside Lambda's "
                f"{MEMORY_MIN_MB}-{MEMORY_MAX_MB} MB; choose a value in that range"
            )
        props["MemorySize"] = s.memory
    # Always written: without it Lambda gives 3 s, not polyfn's documented default.
    timeout = math.ceil(s.effective_timeout)
    if timeout > TIMEOUT_MAX_S:
        raise ConfigError(
            f"{description}: timeout={s.timeout} s exceeds Lambda's maximum of "
            f"{TIMEOUT_MAX_S} s; lower it or split the work"
        )
    props["Timeout"] = timeout
    if s.env:
        _check_env(description, s.env)
        props["Environment"] = {"Variables": dict(s.env)}
    if reserved_concurrency and s.max_concurrency is not None:
        props["ReservedConcurrentExecutions"] = s.max_concurrency
    statements.insert(
        0,
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": _sub(
                f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:"
                f"log-group:/aws/lambda/{name}:*"
            ),
        },
    )
    t.add(
        role,
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": _ASSUME_LAMBDA,
            "Policies": [
                {
                    "PolicyName": f"polyfn-{name.removeprefix(t.app.name + '-')}",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    )
    t.add(fn_id, "AWS::Lambda::Function", props, DependsOn=[log_group])
    _iam.grant_uses(t, role, fn_id, functions, statements)
    t.lambdas.append((role, name, functions))
    return fn_id, timeout


def _rounded(t: _Template, fn: Function) -> None:
    s = fn.settings
    if s.timeout is not None and s.timeout != int(s.timeout):
        import math

        t.warn(
            fn,
            f"timeout {s.timeout} s rounded up to {math.ceil(s.timeout)} s (Lambda counts seconds)",
        )


def _function(
    t: _Template, fn: Function, buckets: dict[str, list[tuple[Function, str, str]]]
) -> None:
    """A schedule, storage, queue or subscriber function: a Lambda of its own with its
    trigger."""
    app = t.app
    base = t.ids(fn.name)
    s = fn.settings
    statements: list[dict[str, Any]] = []
    trigger = fn.trigger
    # max_concurrency on a queue caps the event source mapping (from 2); Lambda's reserved
    # concurrency otherwise.
    reserved = not (
        isinstance(trigger, QueueTrigger)
        and s.max_concurrency is not None
        and s.max_concurrency >= ESM_MAX_CONCURRENCY_MIN
    )
    if isinstance(trigger, StorageTrigger) and set(trigger.events) - {"deleted"}:
        statements.append(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": _sub_named(
                    f"arn:${{AWS::Partition}}:s3:::${{Name}}/{trigger.prefix}*", trigger.bucket
                ),
            }
        )
    fn_id, timeout = _lambda(
        t,
        base=base,
        name=function_name(app, fn),
        description=f"function {fn.name!r}",
        handler=entry_module(fn),
        settings=s,
        statements=statements,
        reserved_concurrency=reserved,
        functions=[fn],
    )
    t.resources[fn_id]["Properties"]["Description"] = (
        f"polyfn {app.name}: {fn.name} ({fn.trigger_label})"
    )
    _rounded(t, fn)
    if isinstance(trigger, QueueTrigger) and s.max_concurrency is not None and reserved:
        t.warn(
            fn,
            "max_concurrency=1 uses reserved concurrency (an SQS event source mapping's "
            "maximum concurrency starts at 2); throttled batches return to the queue and "
            "count as receives toward the dead-letter limit",
        )
    match trigger:
        case ScheduleTrigger():
            _schedule(t, fn, fn_id, base)
            _async_failures(t, fn, fn_id, base, statements)
        case StorageTrigger():
            permission = t.permission(
                f"{base}BucketPermission",
                fn_id,
                "s3.amazonaws.com",
                # The bucket's name, not a Ref to it: the bucket's notification refers to this
                # function, so a Ref back would be a circular dependency. The documented pattern:
                # a known bucket name here, and the bucket DependsOn this permission.
                # https://repost.aws/knowledge-center/unable-validate-circular-dependency-cloudformation
                _sub_named("arn:${AWS::Partition}:s3:::${Name}", trigger.bucket),
                SourceAccount={"Ref": "AWS::AccountId"},
            )
            buckets.setdefault(trigger.bucket, []).append((fn, fn_id, permission))
            _async_failures(t, fn, fn_id, base, statements)
        case QueueTrigger():
            _queue(t, fn, fn_id=fn_id, base=base, timeout=timeout, statements=statements)
        case SubscribeTrigger():
            _subscription(t, fn, fn_id, base)
            _async_failures(t, fn, fn_id, base, statements)
        case HttpTrigger():
            # Deployed with its HTTP group (_http_group): build() never passes one here.
            raise AssertionError(f"{fn.name!r} is an HTTP function")
        case _:
            assert_never(trigger)


def _check_env(what: str, env: dict[str, str]) -> None:
    for key in env:
        if key in RESERVED_ENV:
            raise ConfigError(
                f"{what}: env {key!r} is reserved by the Lambda runtime; choose another name"
            )
        if not (key[:1].isalpha() and key.isascii() and key.replace("_", "").isalnum()):
            raise ConfigError(
                f"{what}: env name {key!r} is not valid on Lambda (letters, digits "
                "and '_', starting with a letter)"
            )


def _http_group(t: _Template, group: HttpGroup, api_id: str) -> None:
    """One Lambda for a group of HTTP functions, its integration and its routes: the shared group
    takes the HTTP API's $default route (every request no other route matches, so polyfn answers
    404 and 405 as everywhere else), any other group its own METHOD /path routes."""
    app = t.app
    settings = group.first.settings
    names = ", ".join(fn.name for fn in group.functions)
    what = f"HTTP function{'s' if len(group.functions) > 1 else ''} {names}"
    fn_id, timeout = _lambda(
        t,
        base=t.ids(group.name),
        name=function_name(app, group),
        description=what,
        handler=HTTP_ENTRY,
        settings=settings,
        statements=[],
        reserved_concurrency=True,
        functions=group.functions,
    )
    t.resources[fn_id]["Properties"]["Description"] = f"polyfn {app.name}: {what}"[:256]
    for fn in group.functions:
        _rounded(t, fn)
        s = fn.settings
        if s.timeout is not None and timeout > HTTP_API_TIMEOUT_S:
            t.warn(
                fn,
                f"timeout {timeout} s is longer than an HTTP API waits ({HTTP_API_TIMEOUT_S} s): "
                "the client gets 503 after 30 s while the function keeps running",
            )
        if s.retries is not None or s.dead_letter is not None:
            t.warn(
                fn,
                "retries/dead_letter have no meaning for HTTP on Lambda (the caller gets the "
                "error response and decides whether to retry); ignored",
            )
    integration = t.add(
        t.ids(group.name, "integration"),
        "AWS::ApiGatewayV2::Integration",
        {
            "ApiId": {"Ref": api_id},
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": _arn(fn_id),
            "PayloadFormatVersion": "2.0",
        },
    )
    target = {"Fn::Join": ["/", ["integrations", {"Ref": integration}]]}
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
    keys = ["$default"] if group.shared else []
    if not group.shared:
        for fn in group.functions:
            trigger = fn.trigger
            assert isinstance(trigger, HttpTrigger)
            keys += [f"{method} {trigger.path}" for method in trigger.methods]
    for key in keys:
        t.add(
            t.ids(group.name, "default" if key == "$default" else key, "route"),
            "AWS::ApiGatewayV2::Route",
            {"ApiId": {"Ref": api_id}, "RouteKey": key, "Target": target},
        )
    t.add(
        t.ids(group.name, "api-permission"),
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": fn_id},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": _sub(
                f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:"
                f"${{{api_id}}}/*"
            ),
        },
    )


def _schedule(t: _Template, fn: Function, fn_id: str, base: str) -> None:
    import json

    from polyfn_aws._names import rule_name, scheduler_input
    from polyfn_aws._schedule import to_eventbridge

    trigger = fn.trigger
    assert isinstance(trigger, ScheduleTrigger)
    schedule = trigger.schedule
    expression = to_eventbridge(schedule)
    name = rule_name(t.app, fn)
    if schedule.kind == "cron" and schedule.tz != "UTC":
        # EventBridge rules run in UTC only; EventBridge Scheduler takes a time zone.
        # https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
        invoker = t.add(
            f"{base}SchedulerRole",
            "AWS::IAM::Role",
            {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                            },
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": f"polyfn-invoke-{fn.name}",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "lambda:InvokeFunction",
                                    "Resource": _arn(fn_id),
                                }
                            ],
                        },
                    }
                ],
            },
        )
        t.add(
            f"{base}Schedule",
            "AWS::Scheduler::Schedule",
            {
                "Name": name,
                "ScheduleExpression": expression,
                "ScheduleExpressionTimezone": schedule.tz,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": "ENABLED",
                "Target": {
                    "Arn": _arn(fn_id),
                    "RoleArn": _arn(invoker),
                    "Input": json.dumps(scheduler_input(t.app, fn), separators=(",", ":")),
                },
            },
        )
        return
    rule = t.add(
        f"{base}Rule",
        "AWS::Events::Rule",
        {
            "Name": name,
            "ScheduleExpression": expression,
            "State": "ENABLED",
            "Targets": [{"Arn": _arn(fn_id), "Id": "polyfn"}],
        },
    )
    t.add(
        f"{base}RulePermission",
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": fn_id},
            "Principal": "events.amazonaws.com",
            "SourceArn": _arn(rule),
        },
    )


def _subscription(t: _Template, fn: Function, fn_id: str, base: str) -> None:
    """An SNS subscription (protocol lambda) of `fn` to its topic, and the permission that lets
    that topic, and only it, invoke the function."""
    trigger = fn.trigger
    assert isinstance(trigger, SubscribeTrigger)
    if trigger.batch_size != SNS_RECORDS_PER_INVOCATION:
        t.warn(
            fn,
            f"batch_size={trigger.batch_size}: SNS invokes a Lambda with one message at a time; "
            "each message is its own invocation",
        )
    topic_id = t.topic(trigger.topic)
    # An SNS topic's Ref is its ARN.
    permission = t.permission(
        f"{base}TopicPermission", fn_id, "sns.amazonaws.com", {"Ref": topic_id}
    )
    t.add(
        f"{base}Subscription",
        "AWS::SNS::Subscription",
        {"TopicArn": {"Ref": topic_id}, "Protocol": "lambda", "Endpoint": _arn(fn_id)},
        DependsOn=[permission],
    )


def _async_failures(
    t: _Template, fn: Function, fn_id: str, base: str, statements: list[dict[str, Any]]
) -> None:
    """Retries and dead letter of an asynchronously invoked function (schedule, storage, SNS
    subscription)."""
    s = fn.settings
    if s.retries is None and s.dead_letter is None:
        return
    props: dict[str, Any] = {"FunctionName": {"Ref": fn_id}, "Qualifier": "$LATEST"}
    if s.retries is not None:
        props["MaximumRetryAttempts"] = min(s.retries, ASYNC_RETRIES_MAX)
        if s.retries > ASYNC_RETRIES_MAX:
            t.warn(
                fn,
                f"retries={s.retries}: Lambda retries an asynchronous event at most "
                f"{ASYNC_RETRIES_MAX} times; using {ASYNC_RETRIES_MAX}",
            )
    if s.dead_letter is not None:
        dlq = t.queue(s.dead_letter, fifo=False)
        props["DestinationConfig"] = {"OnFailure": {"Destination": _arn(dlq)}}
        statements.append({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": _arn(dlq)})
    t.add(f"{base}EventInvokeConfig", "AWS::Lambda::EventInvokeConfig", props)


def _queue(
    t: _Template,
    fn: Function,
    *,
    fn_id: str,
    base: str,
    timeout: int,
    statements: list[dict[str, Any]],
) -> None:
    trigger = fn.trigger
    assert isinstance(trigger, QueueTrigger)
    s = fn.settings
    physical = _fifo_name(trigger.queue) if trigger.fifo else trigger.queue
    queue_id = t.queue(physical, fifo=trigger.fifo)
    queue = t.resources[queue_id]["Properties"]
    visibility = min(
        max(SQS_VISIBILITY_MIN_S, SQS_VISIBILITY_FACTOR * timeout), SQS_VISIBILITY_MAX_S
    )
    queue["VisibilityTimeout"] = max(queue.get("VisibilityTimeout", 0), visibility)
    if s.retries is not None or s.dead_letter is not None:
        receives = SQS_DEFAULT_MAX_RECEIVE if s.retries is None else s.retries + 1
        if receives > SQS_MAX_RECEIVE_MAX:
            raise ConfigError(
                f"function {fn.name!r}: retries={s.retries} exceeds SQS's maximum of "
                f"{SQS_MAX_RECEIVE_MAX - 1} redeliveries (maxReceiveCount {SQS_MAX_RECEIVE_MAX})"
            )
        # SQS can only stop redelivering by moving a message to a dead-letter queue: retries
        # without a named target get "<queue>-dlq".
        target = s.dead_letter or f"{trigger.queue}-dlq"
        dlq = t.queue(_fifo_name(target) if trigger.fifo else target, fifo=trigger.fifo)
        queue["RedrivePolicy"] = {"deadLetterTargetArn": _arn(dlq), "maxReceiveCount": receives}
        if s.dead_letter is None:
            t.warn(
                fn,
                f"retries={s.retries} on SQS needs a dead-letter queue: messages that fail "
                f"{receives} times move to {target!r}",
            )
    statements.append(
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
            ],
            "Resource": _arn(queue_id),
        }
    )
    limit = SQS_FIFO_BATCH_MAX if trigger.fifo else SQS_BATCH_MAX
    if trigger.batch_size > limit:
        raise ConfigError(
            f"function {fn.name!r}: batch_size={trigger.batch_size} exceeds the SQS event "
            f"source's maximum of {limit}{' for FIFO queues' if trigger.fifo else ''}"
        )
    mapping: dict[str, Any] = {
        "EventSourceArn": _arn(queue_id),
        "FunctionName": {"Ref": fn_id},
        "BatchSize": trigger.batch_size,
        # Report exactly the failed messages; the rest of the batch is deleted.
        # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "Enabled": True,
    }
    if trigger.batch_size > SQS_FIFO_BATCH_MAX:
        mapping["MaximumBatchingWindowInSeconds"] = SQS_BATCH_WINDOW_S
    if s.max_concurrency is not None and s.max_concurrency >= ESM_MAX_CONCURRENCY_MIN:
        if s.max_concurrency > ESM_MAX_CONCURRENCY_MAX:
            raise ConfigError(
                f"function {fn.name!r}: max_concurrency={s.max_concurrency} exceeds the SQS "
                f"event source's maximum concurrency of {ESM_MAX_CONCURRENCY_MAX}"
            )
        mapping["ScalingConfig"] = {"MaximumConcurrency": s.max_concurrency}
    t.add(
        f"{base}QueueMapping",
        "AWS::Lambda::EventSourceMapping",
        mapping,
        DependsOn=[f"{base}Role"],
    )


def _fifo_name(queue: str) -> str:
    # FIFO queue names must end in ".fifo".
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues.html
    return queue if queue.endswith(".fifo") else f"{queue}.fifo"


def _bucket(t: _Template, bucket: str, configs: list[tuple[Function, str, str]]) -> None:
    lambdas: list[dict[str, Any]] = []
    seen: list[tuple[str, str, str, str]] = []
    for fn, fn_id, _ in configs:
        trigger = fn.trigger
        assert isinstance(trigger, StorageTrigger)
        rules = [
            {"Name": name, "Value": value}
            for name, value in (("prefix", trigger.prefix), ("suffix", trigger.suffix))
            if value
        ]
        for kind in trigger.events:
            for event in S3_EVENTS[kind]:
                for other, event2, prefix, suffix in seen:
                    if event2 == event and _overlap(trigger.prefix, prefix, trigger.suffix, suffix):
                        # S3 refuses overlapping notification filters for one event type.
                        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html
                        raise ConfigError(
                            f"storage functions {other!r} and {fn.name!r} both want {event} "
                            f"from bucket {bucket!r} with overlapping prefix/suffix; S3 sends an "
                            "event to one destination only: make the prefixes or suffixes "
                            "disjoint, or handle both in one function"
                        )
                seen.append((fn.name, event, trigger.prefix, trigger.suffix))
                entry: dict[str, Any] = {"Event": event, "Function": _arn(fn_id)}
                if rules:
                    entry["Filter"] = {"S3Key": {"Rules": rules}}
                lambdas.append(entry)
    t.add(
        t.ids(bucket, "bucket"),
        "AWS::S3::Bucket",
        {
            "BucketName": _iam.staged(bucket),
            "NotificationConfiguration": {"LambdaConfigurations": lambdas},
        },
        DependsOn=[permission for _, _, permission in configs],
    )


def _overlap(p1: str, p2: str, s1: str, s2: str) -> bool:
    return (p1.startswith(p2) or p2.startswith(p1)) and (s1.endswith(s2) or s2.endswith(s1))


def build(
    app: App,
    out_dir: Path,
    *,
    app_ref: str,
    taken: Collection[str] = (),
    explain: bool = False,
) -> list[str]:
    """Write ``template.json`` and the Lambda entry modules for `app` into `out_dir`.

    Returns the warnings: settings Lambda cannot honour as declared. `taken` (the top-level
    names of the app's files) changes nothing: Lambda's entry names are polyfn's own. With
    `explain`, prints each Lambda's permissions and the declaration behind each."""
    import json

    document, t = _template(app)
    warnings = t.warnings
    if explain:
        print(_explain_text(t), end="")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / TEMPLATE_FILE).write_text(json.dumps(document, indent=2) + "\n")
    for name, text in entry_files(app, app_ref).items():
        write_entry(out_dir / name, text)
    return warnings


def package_files(
    app: App, app_ref: str, *, taken: Collection[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """The generated files a Lambda zip of `app` holds, and the settings warnings."""
    _, warnings = template(app)
    return entry_files(app, app_ref), warnings
