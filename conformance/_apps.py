"""Finding the app the suite runs: by reference (``module:attr``) and back to a reference."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from polyfn import App

DEFAULT_APP = "conformance.app:app"

# The app a driver is serving right now, for entry files loaded by a cloud's own loader
# (functions-framework's create_app) in this process.
CURRENT: App | None = None


class AppRefError(ValueError):
    """A ``module:attr`` reference that does not name a polyfn App."""


def load_app(ref: str) -> App:
    """Import ``module:attr`` (``attr`` defaults to ``app``) and return the polyfn App it names."""
    from polyfn import App

    module_name, _, attr = ref.partition(":")
    attr = attr or "app"
    if not module_name:
        raise AppRefError(f"app reference {ref!r} must look like module:attr")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise AppRefError(f"cannot import {module_name!r} for app {ref!r}: {exc}") from exc
    app = getattr(module, attr, None)
    if not isinstance(app, App):
        raise AppRefError(f"{ref!r} is {type(app).__name__}, not a polyfn App")
    return app


def app_ref(app: App) -> str | None:
    """An importable ``module:attr`` that names `app` (for a server in another process)."""
    fixtures = str(Path(__file__).resolve().parent / "fixtures")
    for name, module in list(sys.modules.items()):
        if module is None or name.startswith("_"):
            continue
        # A cloud's entry file (fixtures/gcp/main.py) holds the app it served in this process,
        # but names whatever app was current then: never the reference for another process.
        if str(getattr(module, "__file__", None) or "").startswith(fixtures):
            continue
        for attr, value in list(vars(module).items()):
            if value is app and not attr.startswith("_"):
                return f"{name}:{attr}"
    return None
