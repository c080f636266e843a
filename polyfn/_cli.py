"""The ``polyfn`` command: an argparse front end that subcommand modules plug into.

Each module in `SUBCOMMAND_MODULES` exposes ``register(subparsers) -> None``; every parser it adds
sets its handler with ``parser.set_defaults(run=handler)`` where ``handler(args) -> int`` returns
the exit status. Modules import adapters, boto3 and the like inside their handlers, never at import
time, so ``polyfn --help`` stays fast. A module that is not installed (the build or conformance
helpers in a trimmed install) is skipped.

Errors: a `UsageError` or any `PolyfnError` prints one paragraph (what is wrong, what to do) and
exits 2; anything else is a bug in polyfn or the app and exits 1 with a one-line summary.
``--debug`` (anywhere on the line) shows the traceback instead, with the same exit status.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SUBCOMMAND_MODULES = ("polyfn._cli_local", "polyfn._cli_build", "conformance._cli")

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool SIGPIPE ended

_DESCRIPTION = """\
Run a polyfn app on your machine, feed it real-looking events, and take it to AWS Lambda, Azure
Functions or Google Cloud Functions.

APP names your app: module:attribute (shop.api:app), a module (shop.api, attribute `app`), or a path
to a .py file (./function_app.py or ./main.py:app)."""

_EPILOG = """\
examples:
  polyfn serve shop.api:app --port 8000      serve HTTP, schedules, storage folders and queues
  polyfn send orders '{"id": 1}'              put a message on the local queue "orders"
  polyfn events aws sqs > sqs.json            a sample native event
  polyfn invoke shop.api:app on_order --provider aws --event sqs.json

Run `polyfn COMMAND --help` for each command's options and an example."""


class Parser(argparse.ArgumentParser):
    """A parser that runs its `before_parse` hooks once, when it is about to parse: a subcommand
    whose flags come from the installed providers reads them only when it is the one run, so
    ``polyfn --help`` or ``polyfn serve`` load no provider."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_parse: list[Callable[[Parser, list[str]], None]] = []

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        hooks, self.before_parse = self.before_parse, []
        for hook in hooks:
            hook(self, list(sys.argv[1:] if args is None else args))
        return super().parse_known_args(args, namespace)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every installed subcommand registered."""
    import importlib

    parser = Parser(
        prog="polyfn",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug", action="store_true", help="show Python tracebacks instead of short messages"
    )
    parser.add_argument("--version", action="version", version=f"polyfn {_version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only "this helper is not installed" is skipped; a helper that fails to import
            # because of its own bug must not vanish silently.
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        module.register(subparsers)
    return parser


def _version() -> str:
    from polyfn import __version__

    return __version__


def _paragraph(message: str) -> str:
    """One wrapped paragraph, prefixed like argparse's own errors."""
    import textwrap

    text = " ".join(str(message).split())
    return textwrap.fill(
        f"polyfn: error: {text}",
        width=100,
        subsequent_indent="  ",
        break_on_hyphens=False,  # keep names like gcp-pubsub-legacy whole, to copy
        break_long_words=False,
    )


def _print_traceback() -> None:
    import traceback

    traceback.print_exc(file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]), run the chosen command, return its exit status."""
    from polyfn._errors import PolyfnError

    args_list = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted after the subcommand too (`polyfn serve app --debug`), not after "--".
    cut = args_list.index("--") if "--" in args_list else len(args_list)
    debug = "--debug" in args_list[:cut]
    args_list = [a for i, a in enumerate(args_list) if i >= cut or a != "--debug"]
    parser = build_parser()
    try:
        # Parsing may load a provider (its flags): its errors are reported like a command's.
        args = parser.parse_args(args_list)
        args.debug = debug
        handler: Any = getattr(args, "run", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(handler(args) or 0)
    except BrokenPipeError:
        # The reader went away (`polyfn events aws sqs | head`): stop quietly, as a tool killed
        # by SIGPIPE would, and keep Python from complaining when it flushes stdout at exit.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        if debug:
            _print_traceback()
        return EXIT_INTERRUPTED
    except PolyfnError as exc:
        # --debug shows the traceback instead of the paragraph; the exit status stays the same,
        # so a script that checks for 2 behaves the same with and without it.
        if debug:
            _print_traceback()
        else:
            print(_paragraph(str(exc)), file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if debug:
            _print_traceback()
            return EXIT_FAILURE
        print(
            _paragraph(
                f"unexpected {type(exc).__name__}: {exc}. Run the same command with --debug to "
                "see the traceback."
            ),
            file=sys.stderr,
        )
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
