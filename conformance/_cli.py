"""``polyfn conformance``: run the case x target matrix from the command line.

`register` adds the subcommand to the ``polyfn`` parser (polyfn/_cli.py); nothing heavy is
imported until `run`.
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
