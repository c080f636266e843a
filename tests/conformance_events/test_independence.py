"""The drivers share no code with the adapters they test: they import only each adapter's
public entry points (and the public names of the cross-adapter conventions), never its modules.

Every module of the suite is held to that rule (drivers, cases, the conformance apps, the runner,
the gcp-http entry file): the list is found by walking the package, so a new driver is checked
without anyone adding it here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import conformance

ROOT = Path(conformance.__file__).parent
# Every source file of the package; not setuptools' build folder (conformance/ is the project
# directory of polyfn-conformance as well as the package).
MODULES = sorted(
    p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in ("build", "dist")
)
# What a driver may take from each adapter: its entry points and the names the deployed
# resources carry (the deployment's naming conventions: a rule's name, a scheduler job's, a
# queue's push path), all exported by the package itself.
ALLOWED = {
    "polyfn_aws": {"handler", "rule_name"},
    "polyfn_azure": {"function_app"},
    "polyfn_gcp": {"cloud_event", "http", "scheduler_job_name", "queue_push_path"},
}
# The core's private modules the suite's command-line front end uses (the CLI's error type, its
# app loader): plumbing shared with `polyfn`'s other commands, not translation code.
CLI_PLUMBING = {"polyfn._cli_errors", "polyfn._local._loader"}
# The resource harnesses test the resource backends, not an adapter's translation: the local
# harness reads the local queue twin as `polyfn serve` does, and every harness resets the
# process's backends between cases. These core modules are theirs to use, and nobody else's.
RESOURCE_HARNESS_CORE = {"polyfn._resources", "polyfn._local._resources", "polyfn._local._invoke"}


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def test_every_driver_is_scanned() -> None:
    names = {_name(p) for p in MODULES}
    drivers = {f"targets/{c}_{t}.py" for c in ("aws", "azure", "gcp") for t in ("http", "events")}
    assert drivers <= names
    assert {"fixtures/gcp/main.py", "_runner.py", "app.py", "app_events.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_only_public_adapter_names(path: Path) -> None:
    for module, names in _imports(path):
        top, _, rest = module.partition(".")
        if top in ALLOWED:
            assert not rest, f"{_name(path)} imports the adapter's module {module}"
            assert names <= ALLOWED[top], f"{_name(path)} takes {names - ALLOWED[top]} from {top}"
        allowed = CLI_PLUMBING | (
            RESOURCE_HARNESS_CORE if path.name == "resource_harnesses.py" else set()
        )
        if top == "polyfn" and module not in allowed:
            assert not rest.startswith("_"), f"{_name(path)} imports polyfn's private {module}"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_adapter_attributes_used_are_public(path: Path) -> None:
    """`polyfn_aws.handler(...)`-style uses name public entry points only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ALLOWED
        ):
            assert node.attr in ALLOWED[node.value.id], (
                f"{_name(path)}: {node.value.id}.{node.attr}"
            )
