"""`UsageError`: a mistake on the command line, reported as one paragraph and exit status 2."""

from __future__ import annotations

from polyfn._errors import PolyfnError


class UsageError(PolyfnError):
    """What the user typed cannot work: an APP that does not import, an unknown function, an
    event file that is not JSON. The message says what is wrong and what to do instead."""


# Where each distribution of this repository is in a checkout (they are not on PyPI), for the
# pip command of a missing extra.
CHECKOUT_PATHS = {
    "polyfn": ".",
    "polyfn-aws": "./adapters/aws",
    "polyfn-azure": "./adapters/azure",
    "polyfn-gcp": "./adapters/gcp",
    "polyfn-conformance": "./conformance",
}


def extra_requirements(distribution: str, extra: str) -> list[str]:
    """The requirements the installed `distribution` declares for `extra` (empty if unknown)."""
    import importlib.metadata
    import re

    try:
        requires = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    wanted = [r.partition(";")[0].strip() for r in requires if marker.search(r.partition(";")[2])]
    return [_with_own_requirements(r) for r in wanted]


def _with_own_requirements(requirement: str) -> str:
    """`requirement`, followed by what it requires when it is another distribution of this
    repository (``polyfn[conformance]`` is ``polyfn-conformance``, which pulls the drivers'
    libraries): the error then names the libraries that are missing."""
    import importlib.metadata
    import re

    name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
    if name not in CHECKOUT_PATHS:
        return requirement
    try:
        own = importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        return requirement
    base = [r.strip() for r in own if not r.partition(";")[2].strip()]
    return f"{requirement}: {', '.join(base)}" if base else requirement


def missing_extra(
    distribution: str, extra: str, command: str, exc: ModuleNotFoundError
) -> UsageError:
    """The one-paragraph error for a command whose optional dependencies are not installed."""
    wanted = extra_requirements(distribution, extra)
    what = f" ({', '.join(wanted)})" if wanted else ""
    checkout = CHECKOUT_PATHS.get(distribution)
    local = f" (from a checkout: pip install '{checkout}[{extra}]')" if checkout else ""
    return UsageError(
        f"`{command}` needs the optional dependencies {distribution}[{extra}]{what}, and "
        f"{exc.name or 'one of them'!r} cannot be imported here. Install them with "
        f"pip install '{distribution}[{extra}]'{local}, then run the command again."
    )


def require_extra(distribution: str, extra: str, command: str, modules: tuple[str, ...]) -> None:
    """Import `modules` (what `command` needs from `distribution`'s `extra`), or raise the
    `missing_extra` error: before the command does any work, never an ImportError midway."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            raise missing_extra(distribution, extra, command, exc) from exc
