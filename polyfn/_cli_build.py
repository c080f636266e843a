"""``polyfn build``, ``polyfn package`` and ``polyfn deploy``: from one app to each cloud.

Each cloud's knowledge lives in its adapter (``polyfn_<cloud>._build``, ``._deploy``); this module
parses the command line, loads the app and reports. Adapters, boto3 and the Google clients are
imported inside the handlers, never when the CLI starts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyfn._cli_errors import UsageError

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

    from polyfn._app import App
    from polyfn._package import AppSource

PROVIDERS = ("aws", "azure", "gcp")
DEPLOY_PROVIDERS = ("aws", "gcp")

_BUILD_HELP = """\
Write the deployment artefacts of APP for one cloud into DIR, print the files written, and warn
about every setting (memory, timeout, env, max_concurrency, retries, dead_letter) the cloud cannot
honour as declared.

  aws    template.json: a CloudFormation template (Lambda functions with one IAM role each, an HTTP
         API, EventBridge rules or Scheduler schedules, S3 buckets with notifications, SQS queues
         with event source mappings), and one Lambda entry module per function.
  azure  function_app.py, host.json, requirements.txt, local.settings.json (Functions v2 model).
  gcp    one CreateFunctionRequest per function (Cloud Functions gen2) and one Cloud Scheduler job
         per schedule, as JSON, plus deploy.sh with the equivalent gcloud commands, and main.py."""

_BUILD_EPILOG = """\
examples:
  polyfn build shop.api:app --provider aws --out build/aws
  cfn-lint build/aws/template.json
  polyfn build ./main.py --provider gcp --out build/gcp --project my-project --region europe-west1
"""

_PACKAGE_HELP = """\
Write a deployment zip of APP for one cloud: the app's source, polyfn and that cloud's adapter
(copied from this machine: they are not on PyPI), the generated entry files, and that cloud's
third-party dependencies only. Prints the zip's size.

Dependencies: --deps vendor installs Linux wheels for the cloud's Python 3.11 (pip --platform
manylinux2014_x86_64 --only-binary=:all:) into the zip; --deps remote writes requirements.txt for
the cloud's own build (Cloud Functions always builds it; Azure with remote build). AWS Lambda
installs nothing itself, so AWS packages are always vendored; polyfn_aws needs no third-party
package, so an AWS zip holds only your code's own requirements."""

_PACKAGE_EPILOG = """\
examples:
  polyfn package shop.api:app --provider aws                 # dist/shop-aws.zip
  polyfn package ./function_app.py --provider azure --deps vendor --out app.zip
  polyfn package shop.api:app --provider gcp -r requirements.txt
"""

_DEPLOY_HELP = """\
Package APP and deploy it with your credentials.

  aws  uploads the zip to an S3 bucket (--bucket; created if missing), then creates or updates the
       CloudFormation stack (--stack, default: the app's name) and waits for it. boto3 reads the
       usual credentials (environment, ~/.aws, SSO); --endpoint-url (or AWS_ENDPOINT_URL) points it
       at another endpoint, such as a local moto_server.
  gcp  uploads the source and creates each function with google-cloud-functions, then the Cloud
       Scheduler jobs; uses Application Default Credentials (gcloud auth application-default
       login)."""

_DEPLOY_EPILOG = """\
examples:
  polyfn deploy shop.api:app --provider aws --region eu-west-1
  polyfn deploy shop.api:app --provider aws --endpoint-url http://127.0.0.1:5000
  polyfn deploy shop.api:app --provider gcp --project my-project --region us-central1
"""


def register(subparsers: Any) -> None:
    import argparse

    raw = argparse.RawDescriptionHelpFormatter
    build = subparsers.add_parser(
        "build",
        help="write a cloud's deployment artefacts (CloudFormation, function_app.py, gen2 specs)",
        description=_BUILD_HELP,
        epilog=_BUILD_EPILOG,
        formatter_class=raw,
    )
    _common(build, PROVIDERS)
    build.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    _gcp_options(build)
    _azure_options(build)
    build.set_defaults(run=run_build)

    package = subparsers.add_parser(
        "package",
        help="write a deployment zip with the app and that cloud's dependencies only",
        description=_PACKAGE_HELP,
        epilog=_PACKAGE_EPILOG,
        formatter_class=raw,
    )
    _common(package, PROVIDERS)
    package.add_argument(
        "--out", type=Path, metavar="FILE", help="zip to write (default: dist/APPNAME-PROVIDER.zip)"
    )
    _package_options(package)
    _azure_options(package)
    package.set_defaults(run=run_package)

    deploy = subparsers.add_parser(
        "deploy",
        help="package and deploy to AWS (CloudFormation) or GCP (Cloud Functions gen2)",
        description=_DEPLOY_HELP,
        epilog=_DEPLOY_EPILOG,
        formatter_class=raw,
    )
    # azure is accepted here only to say how to deploy there (see run_deploy).
    _common(deploy, PROVIDERS)
    _package_options(deploy)
    deploy.add_argument("--stack", help="aws: CloudFormation stack name (default: app name)")
    deploy.add_argument(
        "--bucket", help="aws: S3 bucket for the code (default: polyfn-<account>-<region>)"
    )
    deploy.add_argument("--region", help="aws/gcp: region (default: from your configuration)")
    deploy.add_argument("--endpoint-url", help="aws: send every AWS call to this endpoint")
    _gcp_options(deploy, region=False)
    deploy.set_defaults(run=run_deploy)


def _common(parser: argparse.ArgumentParser, providers: tuple[str, ...]) -> None:
    parser.add_argument("app", metavar="APP", help="module:attribute, module, or path to a .py")
    parser.add_argument("--provider", "-p", required=True, choices=providers, help="target cloud")


def _gcp_options(parser: argparse.ArgumentParser, *, region: bool = True) -> None:
    parser.add_argument(
        "--project", help="gcp: project ID (default: $GOOGLE_CLOUD_PROJECT, else PROJECT_ID)"
    )
    if region:
        parser.add_argument("--region", help="gcp: region (default: us-central1)")


def _azure_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--azure-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="azure: an option of polyfn_azure.function_app, written into function_app.py and "
        "host.json (auth_level=ANONYMOUS, route_prefix=, service_bus_queues=a,b ...); repeatable",
    )


def _package_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deps",
        choices=("vendor", "remote"),
        help="vendor: Linux wheels inside the zip; remote: requirements.txt for the cloud's "
        "build (default: vendor on aws, remote on azure and gcp)",
    )
    parser.add_argument(
        "-r",
        "--requirements",
        type=Path,
        metavar="FILE",
        help="your app's own third-party requirements (a pip requirements file)",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="a data file (or folder) of your app to ship, relative to the app's root, like a "
        ".polyfninclude line (templates/**, config/*.toml); repeatable",
    )


def builder(provider: str) -> ModuleType:
    """The adapter's ``_build`` module for `provider`."""
    import importlib

    adapter = f"polyfn_{provider}"
    try:
        return importlib.import_module(f"{adapter}._build")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(adapter):
            raise UsageError(
                f"the {provider} adapter is not installed; pip install 'polyfn[{provider}]' "
                f"(or pip install -e adapters/{provider}) and run again"
            ) from exc
        raise


def require_command_extra(provider: str, command: str) -> None:
    """Stop with the pip command to run when `polyfn COMMAND --provider P` needs an extra of the
    adapter's distribution that is not installed (the adapter's ``COMMAND_EXTRAS``)."""
    from polyfn._cli_errors import require_extra

    module = builder(provider)
    if command in module.COMMAND_EXTRAS:
        extra, modules = module.COMMAND_EXTRAS[command]
        line = f"polyfn {command} --provider {provider}"
        require_extra(module.ADAPTER_DISTRIBUTION, extra, line, modules)


def load(ref: str) -> tuple[App, AppSource]:
    from polyfn._local._loader import load_app
    from polyfn._package import locate_app

    app = load_app(ref)
    if not app.functions:
        raise UsageError(f"APP {ref!r} declares no functions; there is nothing to deploy")
    return app, locate_app(ref, app)


def _provider_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The builder's keyword options from the command line: each adapter reads its own flags
    (``cli_options`` in its ``_build`` module), so what they mean stays in the adapter."""
    return dict(builder(args.provider).cli_options(args))


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


# What `polyfn build` wrote into its --out folder, so the next build can remove what it no longer
# writes and refuse a folder it did not create.
BUILD_MANIFEST = ".polyfn-build.json"


def run_build(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    require_command_extra(args.provider, "build")
    app, source = load(args.app)
    module = builder(args.provider)
    out: Path = args.out
    previous = _previous_build(out)
    kwargs = _provider_kwargs(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built aside first: a build that fails leaves the folder as it was.
    stage = Path(tempfile.mkdtemp(prefix=".polyfn-build-", dir=out.parent))
    try:
        warnings: list[str] = module.build(app, stage, app_ref=source.app_ref, **kwargs)
        changes = _replace_build(stage, out, previous, provider=args.provider)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    for verb, path in changes:
        print(f"{verb} {path}")
    _warn(warnings)
    n = len(app.functions)
    fns = f"{n} function{'' if n == 1 else 's'}"
    print(f"{args.provider}: {fns} of app {app.name!r} built into {out}")
    return 0


def _previous_build(out: Path) -> list[str]:
    """The files an earlier `polyfn build` wrote into `out` (relative paths), or a UsageError
    when `out` is a file or a non-empty folder that polyfn build did not create."""
    import json

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file; give a folder to write the artefacts to")
    if not out.exists() or not any(out.iterdir()):
        return []
    manifest = out / BUILD_MANIFEST
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise TypeError(files)
    except (OSError, ValueError, KeyError, TypeError):
        present = sorted(p.name for p in out.iterdir())
        shown = ", ".join(present[:5]) + (
            f" and {len(present) - 5} more" if len(present) > 5 else ""
        )
        raise UsageError(
            f"--out {str(out)!r} holds files polyfn build did not write ({shown}). polyfn build "
            "owns its output folder (it removes what an earlier build wrote and this one does "
            "not), so it writes only into a new or empty folder, or one an earlier polyfn build "
            f"wrote (with its {BUILD_MANIFEST}): give another --out, or empty this one."
        ) from None
    return [f for f in files if ".." not in Path(f).parts and not Path(f).is_absolute()]


def _replace_build(
    stage: Path, out: Path, previous: list[str], *, provider: str
) -> list[tuple[str, Path]]:
    """Move the new build from `stage` into `out`, remove what the previous build wrote that this
    one did not, record the new manifest; (verb, path) for each file, verb one of wrote, updated,
    unchanged, removed."""
    import json
    import os

    written = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    out.mkdir(parents=True, exist_ok=True)
    ours = set(previous)
    clashes = [f for f in written if f not in ours and (out / f).exists()]
    if clashes:
        raise UsageError(
            f"--out {str(out)!r} holds {', '.join(clashes)}, which polyfn build did not write "
            "and would overwrite: move it away or give another --out"
        )
    changes: list[tuple[str, Path]] = []
    for rel in written:
        target = out / rel
        if rel not in ours or not target.is_file():
            verb = "wrote"
        elif target.read_bytes() == (stage / rel).read_bytes():
            verb = "unchanged"
        else:
            verb = "updated"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, target)
        changes.append((verb, target))
    for rel in sorted(ours - set(written)):
        stale = out / rel
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
            changes.append(("removed", stale))
        for folder in stale.parents:
            if folder == out or not folder.is_relative_to(out):
                break
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    manifest = {"written_by": "polyfn build", "provider": provider, "files": written}
    (out / BUILD_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return changes


def read_requirements(path: Path | None) -> list[str]:
    """Requirement lines of a pip requirements file, minus polyfn's own distributions (they
    are copied from source) and comments."""
    if path is None:
        return []
    from polyfn._package import LOCAL_DISTRIBUTIONS

    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read requirements file {str(path)!r}: {exc.strerror}") from exc
    out = []
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        name = line.split(";")[0].split("[")[0]
        for op in "<>=!~ @":
            name = name.split(op)[0]
        if name.strip().lower().replace("_", "-") not in LOCAL_DISTRIBUTIONS:
            out.append(line)
    return out


def make_package(
    args: argparse.Namespace, app: App, source: AppSource, out: Path
) -> tuple[Any, list[str]]:
    """Write the zip for `args.provider`; returns (PackageReport, warnings)."""
    from polyfn._package import bytecode_problem, imported_but_left_out, write_zip

    module = builder(args.provider)
    deps = args.deps or module.DEFAULT_DEPS
    if deps not in module.DEPS_MODES:
        raise UsageError(
            f"--deps {deps} does not work on {args.provider}: {module.DEPS_MODES_WHY} "
            f"Use --deps {' or '.join(module.DEPS_MODES)}."
        )
    kwargs = _provider_kwargs(args)
    files, warnings = module.package_files(app, source.app_ref, **kwargs)
    requirements = module.requirements(app) + read_requirements(args.requirements)
    no_bytecode = bytecode_problem()
    report = write_zip(
        out,
        source=source,
        packages=["polyfn", module.ADAPTER_PACKAGE],
        files=files,
        requirements=requirements,
        vendor=deps == "vendor",
        site_packages=module.SITE_PACKAGES,
        includes=args.include,
        bytecode=no_bytecode is None,
    )
    missing = imported_but_left_out(source, report)
    return report, [*warnings, *missing, *([no_bytecode] if no_bytecode else [])]


def _report(report: Any) -> None:
    """What `package` wrote, and what of the app's folder it left out and why."""
    for line in report.left_out_lines():
        print(line)
    print(report.summary())


def run_package(args: argparse.Namespace) -> int:
    require_command_extra(args.provider, "package")
    app, source = load(args.app)
    out: Path = args.out or Path("dist") / f"{app.name}-{args.provider}.zip"
    report, warnings = make_package(args, app, source, out)
    _warn(warnings)
    _report(report)
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    import importlib
    import tempfile

    if args.provider not in DEPLOY_PROVIDERS:
        raise UsageError(
            f"polyfn deploys to {' and '.join(DEPLOY_PROVIDERS)} itself; on {args.provider}, "
            f"write the zip with `polyfn package {args.app} --provider {args.provider}` and "
            "publish it with the Azure CLI (`az functionapp deployment source config-zip "
            "--resource-group RG --name APP --src dist/APPNAME-azure.zip`) or Core Tools "
            "(`func azure functionapp publish APP` in a folder written by `polyfn build`). "
            "See docs/deploy.md."
        )
    require_command_extra(args.provider, "deploy")
    app, source = load(args.app)
    deployer = importlib.import_module(f"polyfn_{args.provider}._deploy")
    session = deployer.connect(args)  # fails with a UsageError before any work without credentials
    with tempfile.TemporaryDirectory(prefix="polyfn-deploy-") as tmp:
        report, warnings = make_package(args, app, source, Path(tmp) / f"{app.name}.zip")
        _warn(warnings)
        _report(report)
        outputs: dict[str, str] = deployer.deploy(
            session, app, report.path, args, app_ref=source.app_ref, log=print
        )
    for key, value in outputs.items():
        print(f"{key}: {value}")
    return 0
