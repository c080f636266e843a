"""`provider`: polyfn_aws as a `polyfn.Provider` (entry point ``aws`` of ``polyfn.providers``).

Everything polyfn's commands do on AWS goes through this object; the work itself lives in
`_build`, `_deploy`, `_samples` and `_resources`, each imported when its operation runs, so
loading the provider costs no more than importing the handler.
"""

from __future__ import annotations

from polyfn._provider import Option, ProviderDefaults

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from polyfn._app import App
    from polyfn._cost import Bill, Usage
    from polyfn._provider import EventSamples, Provider
    from polyfn._resources import Backend


class AwsProvider(ProviderDefaults):
    """AWS Lambda, with API Gateway, Function URLs, ALB, SQS, SNS, S3 and EventBridge."""

    name = "aws"
    description = "AWS Lambda (CloudFormation)"
    entry = "polyfn_aws.handler(app)"
    distribution = "polyfn-aws"
    package = "polyfn_aws"
    checkout = "./adapters/aws"
    # Where its SDKs look for an emulator or endpoint (shown by `polyfn invoke`).
    endpoint_settings: tuple[str, ...] = ("AWS_ENDPOINT_URL",)
    # Lambda sets it in every function's environment (a reserved variable).
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    runtime_marker = "AWS_LAMBDA_FUNCTION_NAME"
    # What polyfn's commands need on AWS beyond polyfn-aws itself: command -> (its extra in
    # adapters/aws/pyproject.toml, the modules that prove the extra is installed).
    extras: Mapping[str, tuple[str, tuple[str, ...]]] = {
        # The LambdaContext invoke passes, in conformance's emulation of the runtime.
        "invoke": ("invoke", ("awslambdaric", "conformance.hosts")),
        "deploy": ("deploy", ("boto3", "botocore")),  # S3 upload and CloudFormation
    }
    options: Sequence[Option] = (
        Option("stack", "CloudFormation stack name (default: app name)", commands=("deploy",)),
        Option(
            "bucket",
            "S3 bucket for the code (default: polyfn-<account>-<region>)",
            commands=("deploy",),
        ),
        Option("region", "region (default: from your configuration)", commands=("deploy",)),
        Option("endpoint-url", "send every AWS call to this endpoint", commands=("deploy",)),
    )
    # How `polyfn package` ships third-party code to Lambda: inside the zip, at its root
    # (/var/task is on sys.path). Lambda installs nothing from a requirements.txt.
    # https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
    deps_modes: tuple[str, ...] = ("vendor",)
    deps_why = "Lambda runs the zip as it is and installs nothing from a requirements.txt."
    site_packages = ""

    def build(
        self,
        app: App,
        out_dir: Path,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> list[str]:
        from polyfn_aws._build import build

        return build(
            app, out_dir, app_ref=app_ref, taken=taken, explain=bool(options.get("explain"))
        )

    def package_files(
        self,
        app: App,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> tuple[dict[str, str], list[str]]:
        from polyfn_aws._build import package_files

        return package_files(app, app_ref, taken=taken)

    def connect(self, options: Mapping[str, Any]) -> object:
        from polyfn_aws._deploy import DeployOptions, connect

        return connect(DeployOptions.of(options))

    def deploy(
        self,
        session: Any,
        app: App,
        package: Path,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        log: Callable[[str], object],
    ) -> dict[str, str]:
        from polyfn_aws._deploy import DeployOptions, deploy

        return deploy(session, app, package, DeployOptions.of(options), log=log)

    def events(self) -> EventSamples:
        from polyfn_aws import _samples

        return _samples

    def resources(self) -> Backend:
        # boto3 loads with this module, on a handle's first use: never at import or handler build.
        from polyfn_aws._resources import AwsBackend

        return AwsBackend()

    def cost(self, usage: Sequence[Usage], *, free_tier: bool) -> list[Bill]:
        from polyfn_aws._cost import bills

        return bills(usage, free_tier=free_tier)


provider = AwsProvider()

if TYPE_CHECKING:
    _: Provider = provider
