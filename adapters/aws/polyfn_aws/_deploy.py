"""`polyfn deploy --provider aws`: upload the package to S3, create or update the CloudFormation
stack that `polyfn_aws._build.template` describes, and wait for it.

boto3 is imported here only, when a deploy runs; it finds credentials the usual way (environment,
~/.aws, SSO, instance roles) and honours AWS_ENDPOINT_URL as well as ``--endpoint-url``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from polyfn._errors import ConfigError, PolyfnError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from polyfn._app import App

# CloudFormation takes a template body of at most 51,200 bytes inline; a larger one must be read
# from S3 (TemplateURL, up to 1 MB).
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
TEMPLATE_BODY_MAX = 51200

# Stack names: a letter, then letters, digits and hyphens, at most 128 characters.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
STACK_NAME_MAX = 128

# Waiting: CloudFormation reports progress in seconds to minutes; give up after 30 minutes.
WAIT_DELAY_S = 5
WAIT_ATTEMPTS = 360

_NO_CREDENTIALS = (
    "no AWS credentials found. polyfn deploy uses boto3's usual sources: set AWS_ACCESS_KEY_ID "
    "and AWS_SECRET_ACCESS_KEY, run `aws configure` (or `aws sso login --profile NAME` and set "
    "AWS_PROFILE), or run where an instance role is available; then run the command again."
)


class DeployError(PolyfnError):
    """AWS refused or failed the deployment; the message says what to fix."""


@dataclass(frozen=True)
class DeployOptions:
    """`polyfn deploy --provider aws`'s options: --region, --stack, --bucket, --endpoint-url."""

    region: str | None = None
    stack: str | None = None
    bucket: str | None = None
    endpoint_url: str | None = None

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> DeployOptions:
        """From the options mapping the CLI fills (absent or None: the default)."""
        return cls(**{f: options.get(f) for f in ("region", "stack", "bucket", "endpoint_url")})


def connect(options: DeployOptions) -> Any:
    """A boto3 Session with credentials and a region, or a `ConfigError` that says what to set."""
    try:
        import boto3  # type: ignore[import-untyped]
        import botocore.exceptions  # type: ignore[import-untyped]
    except ModuleNotFoundError as exc:
        raise ConfigError("polyfn deploy --provider aws needs boto3: pip install boto3") from exc
    try:
        session = boto3.Session(region_name=options.region)
        credentials = session.get_credentials()
    except (botocore.exceptions.BotoCoreError, ValueError) as exc:
        # A broken profile, an expired SSO login, a bad container-credentials URI.
        raise ConfigError(f"cannot load AWS credentials: {exc}. {_NO_CREDENTIALS}") from exc
    if credentials is None:
        raise ConfigError(_NO_CREDENTIALS)
    if not session.region_name:
        raise ConfigError(
            "no AWS region configured: pass --region (for example --region eu-west-1) or set "
            "AWS_REGION / AWS_DEFAULT_REGION"
        )
    return session


def stack_name(app: App) -> str:
    name = "".join(ch if ch.isalnum() else "-" for ch in app.name)
    if not name[:1].isalpha():
        name = f"polyfn-{name}"
    return name[:STACK_NAME_MAX]


def deploy(
    session: Any,
    app: App,
    package: Path,
    options: DeployOptions,
    *,
    log: Callable[[str], object],
) -> dict[str, str]:
    """Upload `package`, create or update the stack, wait; the stack's outputs."""
    import botocore.exceptions

    try:
        return _deploy(session, app, package, options, log)
    except botocore.exceptions.NoCredentialsError as exc:
        raise ConfigError(_NO_CREDENTIALS) from exc
    except botocore.exceptions.EndpointConnectionError as exc:
        raise DeployError(
            f"cannot reach AWS: {exc}. Check your network, --region and --endpoint-url."
        ) from exc
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", str(exc))
        hint = (
            " Your credentials were refused: check them (aws sts get-caller-identity)."
            if code in {"InvalidClientTokenId", "ExpiredToken", "SignatureDoesNotMatch"}
            else ""
        )
        raise DeployError(f"AWS refused {exc.operation_name}: {code}: {message}.{hint}") from exc


def _deploy(
    session: Any, app: App, package: Path, options: DeployOptions, log: Callable[[str], object]
) -> dict[str, str]:
    import hashlib
    import json

    from polyfn_aws._build import template

    endpoint = options.endpoint_url
    s3 = session.client("s3", endpoint_url=endpoint)
    cfn = session.client("cloudformation", endpoint_url=endpoint)
    region = session.region_name
    bucket = options.bucket
    if not bucket:
        account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
        bucket = f"polyfn-{account}-{region}"
    _ensure_bucket(s3, bucket, region, log)
    data = package.read_bytes()
    key = f"{app.name}/{hashlib.sha256(data).hexdigest()[:16]}.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    log(f"uploaded s3://{bucket}/{key}")

    document, _ = template(app)
    body = json.dumps(document, separators=(",", ":"))
    stack = options.stack or stack_name(app)
    request: dict[str, Any] = {
        "StackName": stack,
        "Parameters": [
            {"ParameterKey": "CodeBucket", "ParameterValue": bucket},
            {"ParameterKey": "CodeKey", "ParameterValue": key},
        ],
        # One IAM role per function: CloudFormation must be told it may create roles.
        "Capabilities": ["CAPABILITY_IAM"],
    }
    if len(body.encode()) <= TEMPLATE_BODY_MAX:
        request["TemplateBody"] = body
    else:
        template_key = key.removesuffix(".zip") + ".template.json"
        s3.put_object(Bucket=bucket, Key=template_key, Body=body.encode())
        request["TemplateURL"] = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": template_key}, ExpiresIn=3600
        )
    exists = _stack_exists(cfn, stack)
    if exists:
        import botocore.exceptions

        # What the stack was given (a retention, a Stage: aws cloudformation update-stack
        # --parameters ...) stays; polyfn deploy only ever changes the code. The values are
        # passed as they are rather than with UsePreviousValue, which moto_server cannot resolve
        # for a parameter the stack took by default.
        current = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Parameters", [])
        ours = {p["ParameterKey"] for p in request["Parameters"]}
        declared = set(document.get("Parameters", {}))
        request["Parameters"].extend(
            {"ParameterKey": p["ParameterKey"], "ParameterValue": p["ParameterValue"]}
            for p in current
            if p["ParameterKey"] in declared - ours and "ParameterValue" in p
        )

        try:
            cfn.update_stack(**request)
        except botocore.exceptions.ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            log(f"stack {stack} is already up to date")
            return _outputs(cfn, stack, bucket, key)
        log(f"updating stack {stack} ...")
        _wait(cfn, "stack_update_complete", stack)
    else:
        cfn.create_stack(**request)
        log(f"creating stack {stack} ...")
        _wait(cfn, "stack_create_complete", stack)
    return _outputs(cfn, stack, bucket, key)


def _ensure_bucket(s3: Any, bucket: str, region: str, log: Callable[[str], object]) -> None:
    import botocore.exceptions

    try:
        s3.head_bucket(Bucket=bucket)
        return
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    # us-east-1 is the one region that refuses a LocationConstraint.
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    log(f"created bucket {bucket}")


def _stack_exists(cfn: Any, stack: str) -> bool:
    import botocore.exceptions

    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except botocore.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    if stacks and stacks[0]["StackStatus"] == "ROLLBACK_COMPLETE":
        # A stack whose creation failed can only be deleted, not updated.
        raise DeployError(
            f"stack {stack} is in ROLLBACK_COMPLETE after a failed creation; delete it "
            f"(aws cloudformation delete-stack --stack-name {stack}) and deploy again"
        )
    return bool(stacks)


def _wait(cfn: Any, waiter_name: str, stack: str) -> None:
    import botocore.exceptions

    try:
        cfn.get_waiter(waiter_name).wait(
            StackName=stack, WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_ATTEMPTS}
        )
    except botocore.exceptions.WaiterError as exc:
        reasons = _failures(cfn, stack)
        status = exc.last_response.get("Stacks", [{}])[0].get("StackStatus", "?")
        raise DeployError(
            f"stack {stack} did not deploy ({status})"
            + (f": {'; '.join(reasons)}" if reasons else "")
            + ". Fix the cause and deploy again."
        ) from exc


def _failures(cfn: Any, stack: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=stack).get("StackEvents", [])
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', e['ResourceStatus'])}"
        for e in events
        if e["ResourceStatus"].endswith("FAILED")
    ][:5]


def _outputs(cfn: Any, stack: str, bucket: str, key: str) -> dict[str, str]:
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {"stack": f"{stack} ({found['StackStatus']})", "code": f"s3://{bucket}/{key}"}
    for out in found.get("Outputs", []):
        outputs[out["OutputKey"]] = out["OutputValue"]
    return outputs
