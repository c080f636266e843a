"""The conformance suite is its own distribution (conformance/pyproject.toml, polyfn-conformance):
the core wheel carries no `conformance` package, the suite's own lists every package it has, and
the core's `conformance` extra pulls it."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance"


def _pyproject(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _suite_packages() -> set[str]:
    """Every directory of the suite that holds Python files, as a dotted package name."""
    found = set()
    for path in SUITE.rglob("*.py"):
        parts = path.relative_to(SUITE).parts[:-1]
        if parts and parts[0] in ("build", "dist"):
            continue
        found.add(".".join(("conformance", *parts)))
    return found


def test_the_core_wheel_carries_no_conformance_package() -> None:
    include = _pyproject(REPO / "pyproject.toml")["tool"]["setuptools"]["packages"]["find"][
        "include"
    ]
    for package in _suite_packages():
        assert not any(fnmatch.fnmatchcase(package, p) for p in include), package


def test_the_suite_distribution_lists_every_package() -> None:
    config = _pyproject(SUITE / "pyproject.toml")
    assert config["project"]["name"] == "polyfn-conformance"
    assert config["tool"]["setuptools"]["package-dir"] == {"conformance": "."}
    assert set(config["tool"]["setuptools"]["packages"]) == _suite_packages()


def test_the_core_extra_pulls_the_suite() -> None:
    extras = _pyproject(REPO / "pyproject.toml")["project"]["optional-dependencies"]
    assert extras["conformance"] == ["polyfn-conformance"]
    deps = " ".join(_pyproject(SUITE / "pyproject.toml")["project"]["dependencies"])
    for name in ("polyfn-aws[invoke]", "polyfn-azure", "polyfn-gcp", "aws-lambda-powertools"):
        assert name in deps, name
