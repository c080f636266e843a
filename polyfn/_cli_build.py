"""``polyfn build``, ``polyfn package`` and ``polyfn deploy``: from one app to each cloud.

Each cloud's knowledge lives in its provider (`polyfn.Provider`, found through the
``polyfn.providers`` entry points); this module parses the command line, maps the provider's own
flags onto its options, loads the app and reports. Providers, boto3 and the Google clients are
loaded only when the command that needs them runs, never when the CLI starts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyfn._cli_errors import UsageError

if TYPE_CHECKING:
    import argparse

    from polyfn._app import App
    from polyfn._cli import Parser
    from polyfn._package import AppSource
    from polyfn._provider import Option, Provider

_BUILD_HELP = """\
Write the deployment artefacts of APP for one cloud into DIR, print the files written, and warn
about every setting (memory, timeout, env, max_concurrency, retries, dead_letter) the cloud cannot
honour as declared.

  aws    template.json: a CloudFormation template (one Lambda for the HTTP routes behind one HTTP
         API, one per other function, each with its IAM role and log group; EventBridge rules or
         Scheduler schedules, S3 buckets with notifications, SQS queues with event source
         mappings), and the Lambda entry modules.
  azure  function_app.py, host.json, requirements.txt, local.settings.json (Functions v2 model).
  gcp    one CreateFunctionRequest (Cloud Functions gen2) for the HTTP routes and one per other
         function, one Cloud Scheduler job per schedule, as JSON, plus deploy.sh with the
         equivalent gcloud commands, and main.py.

HTTP routes share one deployed function unless their settings differ or they say standalone=True
(docs/deploy.md). A generated entry never replaces a file of yours: an app with its own main.py
or function_app.py gets polyfn_main.py or polyfn_function_app.py."""

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
    _common(build, "build")
    build.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    build.add_argument(
        "--explain",
        action="store_true",
        help="print each function's permissions and the declaration that caused each",
    )
    build.set_defaults(run=run_build)

    package = subparsers.add_parser(
        "package",
        help="write a deployment zip with the app and that cloud's dependencies only",
        description=_PACKAGE_HELP,
        epilog=_PACKAGE_EPILOG,
        formatter_class=raw,
    )
    _common(package, "package")
    package.add_argument(
        "--out", type=Path, metavar="FILE", help="zip to write (default: dist/APPNAME-PROVIDER.zip)"
    )
    _package_options(package)
    package.set_defaults(run=run_package)

    deploy = subparsers.add_parser(
        "deploy",
        help="package and deploy to AWS (CloudFormation) or GCP (Cloud Functions gen2)",
        description=_DEPLOY_HELP,
        epilog=_DEPLOY_EPILOG,
        formatter_class=raw,
    )
    # A provider that cannot deploy is accepted here only to say how to publish instead.
    _common(deploy, "deploy")
    _package_options(deploy)
    deploy.set_defaults(run=run_deploy)


def _common(parser: Parser, command: str) -> None:
    parser.add_argument("app", metavar="APP", help="module:attribute, module, or path to a .py")
    choice = parser.add_argument("--provider", "-p", required=True, help="target cloud")
    parser.before_parse.append(lambda p, argv: provider_flags(p, argv, choice, command))


def provider_choices(action: argparse.Action) -> list[str]:
    """Set the installed providers as `action`'s choices (read when the command runs)."""
    from polyfn._provider import names

    action.choices = names()
    return action.choices


def provider_flags(parser: Parser, argv: list[str], choice: argparse.Action, command: str) -> None:
    """Add the flags the providers declare for `command` to its parser: the chosen provider's
    (``--provider NAME`` on the line), or every installed provider's for ``--help``."""
    import argparse

    installed = provider_choices(choice)
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--provider", "-p")
    chosen = peek.parse_known_args(argv)[0].provider
    wanted = [chosen] if chosen in installed and not {"-h", "--help"} & set(argv) else installed
    declared: dict[str, list[tuple[str, Option]]] = {}
    for name in wanted:
        try:
            loaded = load_provider(name)
        except UsageError:
            if len(wanted) == 1:
                raise
            continue  # --help: a provider that cannot load here adds no flags
        for option in loaded.options:
            if command in option.commands:
                declared.setdefault(option.name, []).append((name, option))
    for flag, options in declared.items():
        _add_flag(parser, flag, options)


def _add_flag(parser: Parser, flag: str, options: list[tuple[str, Option]]) -> None:
    """One --FLAG for every provider that declares it; the help names who reads it and how."""
    import argparse

    helps: dict[str, list[str]] = {}
    for name, option in options:
        helps.setdefault(option.help, []).append(name)
    text = "; ".join(f"{'/'.join(names)}: {help_}" for help_, names in helps.items())
    option = options[0][1]
    kwargs: dict[str, Any] = {"dest": option.key, "help": text, "type": option.type}
    if option.metavar:
        kwargs["metavar"] = option.metavar
    if option.repeat:
        kwargs.update(action="append", default=[])
    try:
        parser.add_argument(f"--{flag}", **kwargs)
    except argparse.ArgumentError as exc:
        owners = ", ".join(name for name, _ in options)
        raise UsageError(
            f"provider {owners} declares --{flag}, which polyfn {parser.prog.split()[-1]} "
            "already has: a provider's flags must not reuse the command's own."
        ) from exc


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


def load_provider(name: str) -> Provider:
    """The provider `name`, or a UsageError with the pip command when it cannot load here."""
    from polyfn._provider import entry_point_distribution, provider

    try:
        return provider(name)
    except ModuleNotFoundError as exc:
        dist = entry_point_distribution(name) or name
        raise UsageError(
            f"the {name} adapter needs {exc.name!r}, which is not installed: "
            f"pip install '{dist}' brings it."
        ) from exc


def require_command_extra(provider: str, command: str) -> None:
    """Stop with the pip command to run when `polyfn COMMAND --provider P` needs an extra of the
    provider's distribution that is not installed (the provider's `extras`)."""
    from polyfn._cli_errors import require_extra

    loaded = load_provider(provider)
    if command in loaded.extras:
        extra, modules = loaded.extras[command]
        line = f"polyfn {command} --provider {provider}"
        require_extra(loaded.distribution, extra, line, modules)


def load(ref: str) -> tuple[App, AppSource]:
    from polyfn._local._loader import load_app
    from polyfn._package import locate_app

    app = load_app(ref)
    if not app.functions:
        raise UsageError(f"APP {ref!r} declares no functions; there is nothing to deploy")
    return app, locate_app(ref, app)


def provider_options(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The values of the flags the chosen provider declares for `command`, by option key (None
    for a flag not given): the provider turns them into its own typed options."""
    options = load_provider(args.provider).options
    return {o.key: getattr(args, o.key, None) for o in options if command in o.commands}


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
    provider = load_provider(args.provider)
    out: Path = args.out
    previous = _previous_build(out)
    # --explain is every provider's: print each function's permissions and their causes.
    options = {**provider_options(args, "build"), "explain": bool(args.explain)}
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built aside first: a build that fails leaves the folder as it was.
    stage = Path(tempfile.mkdtemp(prefix=".polyfn-build-", dir=out.parent))
    try:
        warnings = provider.build(
            app, stage, app_ref=source.app_ref, options=options, taken=top_level_names(source)
        )
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


def top_level_names(source: AppSource) -> frozenset[str]:
    """The names the app's own files take at the package's root, so that a builder names its
    entry file another way rather than replace one of them (polyfn._generated)."""
    names: set[str] = set()
    for path in source.paths:
        if path == source.root and path.is_dir():
            names.update(child.name for child in path.iterdir())
        else:
            names.add(path.relative_to(source.root).parts[0])
    return frozenset(names)


def read_requirements(path: Path | None) -> list[str]:
    """Requirement lines of a pip requirements file, minus polyfn's own distributions (they
    are copied from source) and comments."""
    if path is None:
        return []
    from polyfn._package import local_distributions

    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read requirements file {str(path)!r}: {exc.strerror}") from exc
    local = local_distributions()
    out = []
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        name = line.split(";")[0].split("[")[0]
        for op in "<>=!~ @":
            name = name.split(op)[0]
        if name.strip().lower().replace("_", "-") not in local:
            out.append(line)
    return out


def make_package(
    args: argparse.Namespace, app: App, source: AppSource, out: Path, command: str
) -> tuple[Any, list[str]]:
    """Write the zip for `args.provider`; returns (PackageReport, warnings)."""
    from polyfn._package import bytecode_problem, imported_but_left_out, write_zip

    provider = load_provider(args.provider)
    deps = args.deps or provider.deps_modes[0]
    if deps not in provider.deps_modes:
        raise UsageError(
            f"--deps {deps} does not work on {args.provider}: {provider.deps_why} "
            f"Use --deps {' or '.join(provider.deps_modes)}."
        )
    options = provider_options(args, command)
    files, warnings = provider.package_files(
        app, app_ref=source.app_ref, options=options, taken=top_level_names(source)
    )
    requirements = provider.requirements(app) + read_requirements(args.requirements)
    no_bytecode = bytecode_problem()
    report = write_zip(
        out,
        source=source,
        packages=["polyfn", provider.package],
        files=files,
        requirements=requirements,
        vendor=deps == "vendor",
        site_packages=provider.site_packages,
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
    report, warnings = make_package(args, app, source, out, "package")
    _warn(warnings)
    _report(report)
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    import tempfile

    from polyfn._provider import names

    provider = load_provider(args.provider)
    instead = provider.deploy_instead(args.app)
    if instead is not None:
        deployers = [n for n in names() if _deploys(n)]
        raise UsageError(
            f"polyfn deploys to {' and '.join(deployers)} itself; on {args.provider}, {instead}"
        )
    require_command_extra(args.provider, "deploy")
    app, source = load(args.app)
    options = provider_options(args, "deploy")
    # Fails with a ConfigError before any work when there are no credentials.
    session = provider.connect(options)
    with tempfile.TemporaryDirectory(prefix="polyfn-deploy-") as tmp:
        zip_path = Path(tmp) / f"{app.name}.zip"
        report, warnings = make_package(args, app, source, zip_path, "deploy")
        _warn(warnings)
        _report(report)
        outputs = provider.deploy(
            session, app, report.path, app_ref=source.app_ref, options=options, log=print
        )
    for key, value in outputs.items():
        print(f"{key}: {value}")
    return 0


def _deploys(name: str) -> bool:
    """Whether provider `name` deploys itself (one that cannot load here is left out)."""
    try:
        return load_provider(name).deploy_instead("APP") is None
    except UsageError:
        return False
