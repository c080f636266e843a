"""polyfn's conformance suite: neutral cases, per-target drivers, the runner and its report.

`polyfn conformance` runs every case on every target and prints the case x target matrix.
Drivers render a neutral case into a cloud's native input, call the adapter's public entry point
and read the native output back; they share no code with the adapters they test.

The suite is its own distribution, ``polyfn-conformance`` (conformance/pyproject.toml; the core's
``polyfn[conformance]`` extra pulls it). It keeps the import name ``conformance``, the name users'
case modules import, and the core's CLI finds it by that name: ``polyfn conformance`` exists when
``conformance._cli`` imports (polyfn/_cli.py, SUBCOMMAND_MODULES).

Write your own cases with `HttpCase` (see conformance/cases/http.py for examples) and run them
against your app: ``polyfn conformance --app shop.api:app --cases shop.conformance_cases``.
"""

from conformance._httpcase import ANY, PRESENT, HttpCase
from conformance._spec import Outcome, Recorder, Skip

__all__ = ["ANY", "PRESENT", "HttpCase", "Outcome", "Recorder", "Skip"]
