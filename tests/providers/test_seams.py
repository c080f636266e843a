"""The seams between the core, the adapters and the conformance suite's fake hosts.

- The core names no provider: a provider's distribution and checkout path come from the provider
  itself (through the entry point), never from a list in polyfn/.
- One fake host per cloud, in conformance.hosts: no adapter module builds what a cloud's runtime
  builds around a call (awslambdaric's context, the Azure worker's Datums and converters,
  functions-framework's app).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from polyfn._provider import names, provider

REPO = Path(__file__).resolve().parents[2]
CORE = sorted((REPO / "polyfn").rglob("*.py"))
ADAPTERS = sorted(REPO.glob("adapters/*/polyfn_*/*.py"))
SHIPPED = [name for name in names() if (REPO / "adapters" / name).is_dir()]
# What only a cloud's host makes around a call: the runtime's context class, the worker's
# input values and converter registry, functions-framework's app and its test client.
HOST_NAMES = {
    "LambdaContext",
    "awslambdaric",
    "Datum",
    "get_binding_registry",
    "create_app",
    "test_client",
    "crash_handler",
}


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is str]


def _names(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found.update(a.name.split(".")[0] for a in node.names)
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_the_shipped_providers_say_where_their_checkout_is() -> None:
    assert set(SHIPPED) == {"aws", "azure", "gcp"}
    for name in SHIPPED:
        assert provider(name).checkout == f"./adapters/{name}"


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(REPO)))
def test_the_core_names_no_provider_distribution_or_checkout(path: Path) -> None:
    for name in SHIPPED:
        shipped = provider(name)
        for text in _strings(path):
            assert shipped.distribution not in text, f"{path.name} names {shipped.distribution}"
            assert shipped.checkout not in text, f"{path.name} names {shipped.checkout}"


@pytest.mark.parametrize("path", ADAPTERS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_adapter_module_emulates_its_cloud_host(path: Path) -> None:
    assert not _names(path) & HOST_NAMES, f"{path.relative_to(REPO)} builds what a host builds"
