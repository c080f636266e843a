"""`load_app`: module:attribute, a bare module (attribute `app`, or its only App), a .py path."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from polyfn._cli_errors import UsageError
from polyfn._local._loader import load_app

if TYPE_CHECKING:
    from pathlib import Path

APP_SOURCE = "from polyfn import App\napp = App('{name}')\nother = App('other')\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "loaderpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "api.py").write_text(APP_SOURCE.format(name="api"))
    (tmp_path / "single_app_mod.py").write_text("from polyfn import App\nshop = App('single')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in ("loaderpkg", "loaderpkg.api", "single_app_mod", "api"):
        sys.modules.pop(name, None)


def test_the_forms_of_an_app_reference(project: Path) -> None:
    assert load_app("loaderpkg.api:app").name == "api"
    assert load_app("loaderpkg.api:other").name == "other"
    assert load_app("loaderpkg.api").name == "api"  # attribute `app`
    assert load_app("single_app_mod").name == "single"  # the module's only App
    assert load_app(str(project / "loaderpkg" / "api.py")).name == "api"
    assert load_app("loaderpkg/api.py:other").name == "other"


def test_a_module_with_several_apps_and_none_named_app(project: Path) -> None:
    (project / "two_apps_mod.py").write_text("from polyfn import App\na = App('a')\nb = App('b')\n")
    with pytest.raises(UsageError, match=r"App objects found: a, b\)\. Name one"):
        load_app("two_apps_mod")
    sys.modules.pop("two_apps_mod", None)
