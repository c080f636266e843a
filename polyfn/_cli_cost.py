"""``polyfn cost``: an app's monthly bill on each installed cloud, from a traffic profile.

The command reads the profile (polyfn._cost), and asks each provider for its bills through the
provider contract (`Provider.cost`); it names no cloud itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyfn._cli_errors import UsageError

if TYPE_CHECKING:
    from polyfn._cost import Bill

_DESCRIPTION = """\
Print the monthly bill of APP on each installed cloud (or the one --provider names): requests,
compute, the free tiers, and the gateway, queue, topic and storage requests its triggers imply,
one bill per plan each cloud prices (the plan polyfn deploys first). Rates come from dated
tables in the adapters, each citing its pricing page; money is computed in decimal and each
charge rounded to the cent.

PROFILE is a JSON object, {"functions": {NAME: {FIELD: VALUE}}}, with these fields per function:
{fields}
or the invocation log `polyfn serve` writes to stderr (one JSON line per invocation): each
function's mean duration, and its count scaled from the log's time span to a 30-day month."""

_EPILOG = """\
example:
  echo '{"functions": {"api": {"invocations": 3000000, "duration_ms": 120}}}' > profile.json
  polyfn cost shop.api:app --profile profile.json
  polyfn serve shop.api:app 2> serve.log; polyfn cost shop.api:app --profile serve.log --json"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "cost",
        help="the app's monthly bill on each cloud, from a traffic profile",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The profile's fields come from the cost model, loaded only when `polyfn cost` runs (decimal
    # and typing would cost every other command's start).
    p.before_parse.append(_describe_fields)
    p.add_argument("app", metavar="APP", help="the app: module:attribute, a module, or a .py file")
    p.add_argument("--profile", required=True, type=Path, metavar="FILE", help="traffic profile")
    p.add_argument("--provider", metavar="P", help="price this cloud only (default: every one)")
    p.add_argument("--json", action="store_true", help="print the bills as JSON")
    p.add_argument(
        "--no-free-tier", action="store_true", help="price every unit, without the free tiers"
    )
    p.set_defaults(run=run_cost)


def _describe_fields(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    from polyfn._cost import PROFILE_FIELDS

    fields = "\n".join(f"  {name:15} {meaning}" for name, meaning in PROFILE_FIELDS.items())
    parser.description = _DESCRIPTION.replace("{fields}", fields)


def run_cost(args: argparse.Namespace) -> int:
    import json
    import sys

    from polyfn._cost import format_bills, read_profile
    from polyfn._local._loader import load_app

    app = load_app(args.app)
    try:
        text = args.profile.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read profile {str(args.profile)!r}: {exc}") from None
    usage = read_profile(text, app, origin=str(args.profile))
    free_tier = not args.no_free_tier
    bills, skipped = _bills(usage, args.provider, free_tier=free_tier)
    if args.json:
        out = {
            "app": app.name,
            "free_tier": free_tier,
            "bills": [bill.as_dict() for bill in bills],
            "skipped": skipped,
        }
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return 0
    state = "free tiers applied" if free_tier else "no free tiers"
    sys.stdout.write(f"polyfn cost: app {app.name!r}, monthly, USD ({state})\n\n")
    sys.stdout.write(format_bills(bills, free_tier=free_tier))
    for name, why in skipped.items():
        sys.stdout.write(f"not priced: {name}: {why}\n")
    return 0


def _bills(usage: Any, only: str | None, *, free_tier: bool) -> tuple[list[Bill], dict[str, str]]:
    """Every provider's bills (or `only`'s); the providers that cannot price, and why."""
    from polyfn._cost import NotPricedError
    from polyfn._provider import names, provider

    bills: list[Bill] = []
    skipped: dict[str, str] = {}
    for name in [only] if only else names():
        try:
            loaded = provider(name)
            bills.extend(loaded.cost(usage, free_tier=free_tier))
        except (NotPricedError, ModuleNotFoundError) as exc:
            # A cloud that cannot price at all is skipped; a usage it refuses (a memory outside
            # its limits) is the profile's error, reported.
            if only:
                raise
            skipped[name] = str(exc)
    if not bills:
        raise UsageError("no installed provider can price the app: " + "; ".join(skipped.values()))
    return bills, skipped
