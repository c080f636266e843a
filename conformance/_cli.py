"""``polyfn conformance``: run the case x target matrix from the command line.

`register` adds the subcommand to the ``polyfn`` parser: the core's CLI imports this module by
name (polyfn/_cli.py, SUBCOMMAND_MODULES) and leaves the command out when the polyfn-conformance
distribution is not installed. Nothing heavy is imported until `run`, which checks the drivers'
libraries first (a missing one names ``pip install 'polyfn[conformance]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

# What the drivers of each cloud's targets import (the core's `conformance` extra in
# pyproject.toml): target name prefix -> modules. The conformance app needs pydantic whatever runs.
TARGET_MODULES = {
    "aws": ("aws_lambda_powertools.utilities.parser", "awslambdaric"),
    "azure": ("polyfn_azure", "azure.functions"),
    "gcp": ("polyfn_gcp", "functions_framework", "cloudevents"),
}
APP_MODULES = ("pydantic",)

_HELP = "run every conformance case on every cloud's driver and print the case x target matrix"

_EPILOG = """\
examples:
  polyfn conformance                                   the built-in cases on all targets
  polyfn conformance --target 'aws-*' --case 'cookies-*'
  polyfn conformance --app shop.api:app --cases shop.conformance_cases
                                                       your handlers, your cases (a module with
                                                       CASES = [conformance.HttpCase(...), ...])
  polyfn conformance --resources                       also the resource matrix: the neutral
                                                       Bucket/Queue/Topic/Table/Secret cases on
                                                       local and each configured cloud
  polyfn conformance --resources-only --backend local  only the resource matrix, only local

The resource matrix runs local always, and a cloud when its endpoints are in the environment:
aws with AWS_ENDPOINT_URL (e.g. moto_server) or credentials, azure with AzureWebJobsStorage
(e.g. Azurite), gcp with PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST and STORAGE_EMULATOR_HOST
(or GOOGLE_CLOUD_PROJECT and GOOGLE_APPLICATION_CREDENTIALS); otherwise its column says "not
configured", which is no failure. It creates its resources with unique names and leaves them.
Cells over a fake of the service say "pass (fake transport)" (Key Vault, Secret Manager); Azure's
fifo queue and topic cases skip: no Service Bus broker.

Exit status: 0 when every case passed or was skipped, 1 when any failed, 2 on a usage error."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app",
        metavar="APP",
        help=(
            "the polyfn App to run: module:attr, a module, or a path to a .py file "
            "(default: the conformance app, conformance.app:app); needs --cases, since the "
            "built-in cases are written for the conformance app"
        ),
    )
    parser.add_argument(
        "--cases",
        metavar="MODULE",
        action="append",
        help=(
            "a module whose CASES list the cases to run (repeatable; default: the built-in ones, "
            "which only the conformance app passes)"
        ),
    )
    parser.add_argument(
        "--target", metavar="GLOB", help="only targets matching this glob (e.g. 'aws-*,gcp-http')"
    )
    parser.add_argument("--case", metavar="GLOB", help="only cases whose name matches this glob")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--resources",
        action="store_true",
        help="also run the resource matrix (resource case x backend) after the trigger matrix",
    )
    parser.add_argument(
        "--resources-only", action="store_true", help="run only the resource matrix"
    )
    parser.add_argument(
        "--backend",
        metavar="GLOB",
        help="resource matrix: only these backends (local, aws, azure, gcp; default all)",
    )
    parser.add_argument(
        "--resource-case", metavar="GLOB", help="resource matrix: only cases matching this glob"
    )


def register(subparsers: Any) -> None:
    import argparse

    parser = subparsers.add_parser(
        "conformance",
        help=_HELP,
        description=_HELP.capitalize() + ".",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(run=run)


def required_modules(target_glob: str | None) -> tuple[str, ...]:
    """The modules the targets `target_glob` selects need: a glob that starts with a cloud's
    name (``aws-*``, ``gcp-http``) needs that cloud's, any other (``*``, ``*-http``) all."""
    out = list(APP_MODULES)
    for glob in (g.strip() for g in (target_glob or "*").split(",") if g.strip()):
        clouds = [c for c in TARGET_MODULES if glob.startswith(c)] or list(TARGET_MODULES)
        out.extend(m for c in clouds for m in TARGET_MODULES[c] if m not in out)
    return tuple(out)


def run(args: argparse.Namespace) -> int:
    only = getattr(args, "resources_only", False)
    status = 0 if only else run_triggers(args)
    if getattr(args, "resources", False) or only:
        if not only:
            print()
        status = max(status, run_resources(args))
    return status


def run_resources(args: argparse.Namespace) -> int:
    import fnmatch
    import json

    from conformance._resources_runner import (
        BACKENDS,
        format_resource_matrix,
        resource_json,
    )
    from conformance._resources_runner import run_resources as run_matrix
    from polyfn._cli_errors import UsageError

    backends = [
        b
        for b in BACKENDS
        if getattr(args, "backend", None) is None
        or any(fnmatch.fnmatchcase(b, g.strip()) for g in args.backend.split(","))
    ]
    if not backends:
        raise UsageError(f"--backend {args.backend!r} matches none of {', '.join(BACKENDS)}")
    report = run_matrix(backends, getattr(args, "resource_case", None))
    if not report.cases:
        raise UsageError(f"--resource-case {args.resource_case!r} matches no resource case")
    print(json.dumps(resource_json(report)) if args.json else format_resource_matrix(report))
    return 0 if report.ok else 1


def run_triggers(args: argparse.Namespace) -> int:
    from conformance._apps import AppRefError
    from conformance._runner import main
    from polyfn._cli_errors import require_extra
    from polyfn._local._loader import load_app

    require_extra("polyfn", "conformance", "polyfn conformance", required_modules(args.target))

    try:
        return main(
            app_ref=args.app,
            case_modules=args.cases,
            target_glob=args.target,
            case_glob=args.case,
            as_json=args.json,
            load=load_app,
        )
    except (AppRefError, ModuleNotFoundError, ValueError) as exc:
        from polyfn._cli_errors import UsageError

        raise UsageError(str(exc)) from exc
