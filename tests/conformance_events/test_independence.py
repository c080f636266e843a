"""The drivers share no code with the adapters they test: they import only each adapter's
public entry points (and the public names of the cross-adapter conventions), never its modules.
The HTTP drivers, their cases and the gcp-http entry file are held to the same rule as the
event drivers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import conformance

ROOT = Path(conformance.__file__).parent
MODULES = [
    ROOT / "app_events.py",
    ROOT / "cases" / "schedule.py",
    ROOT / "cases" / "storage.py",
    ROOT / "cases" / "queue.py",
    ROOT / "targets" / "aws_events.py",
    ROOT / "targets" / "azure_events.py",
    ROOT / "targets" / "gcp_events.py",
    ROOT / "app.py",
    ROOT / "_httpcase.py",
    ROOT / "_wire.py",
    ROOT / "cases" / "http.py",
    ROOT / "targets" / "aws_http.py",
    ROOT / "targets" / "azure_http.py",
    ROOT / "targets" / "gcp_http.py",
    ROOT / "fixtures" / "gcp" / "main.py",
]
# What a driver may take from each adapter: its entry points and the names the deployed
# resources carry (DESIGN.md conventions), all exported by the package itself.
ALLOWED = {
    "polyfn_aws": {"handler", "rule_name"},
    "polyfn_azure": {"function_app"},
    "polyfn_gcp": {"cloud_event", "http", "scheduler_job_name"},
}


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_only_public_adapter_names(path: Path) -> None:
    for module, names in _imports(path):
        top, _, rest = module.partition(".")
        if top in ALLOWED:
            assert not rest, f"{path.name} imports the adapter's module {module}"
            assert names <= ALLOWED[top], f"{path.name} takes {names - ALLOWED[top]} from {top}"
        if top == "polyfn":
            assert not rest.startswith("_"), f"{path.name} imports polyfn's private {module}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_adapter_attributes_used_are_public(path: Path) -> None:
    """`polyfn_aws.handler(...)`-style uses name public entry points only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ALLOWED
        ):
            assert node.attr in ALLOWED[node.value.id], f"{path.name}: {node.value.id}.{node.attr}"
