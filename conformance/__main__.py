"""``python -m conformance``: the same as ``polyfn conformance``."""

from __future__ import annotations

import argparse
import sys

from conformance._cli import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance", description="Run the polyfn conformance matrix."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    from polyfn import PolyfnError

    try:
        return run(args)
    except PolyfnError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
