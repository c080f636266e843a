"""`load_app`: find the `App` a command-line APP reference names.

APP is ``module:attribute``, ``module`` (attribute ``app``), or a path to a ``.py`` file with an
optional ``:attribute``. The current directory is importable, as with ``python -m``; a file's own
folder is importable, so it can import its siblings.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from polyfn._app import App
from polyfn._cli_errors import UsageError

if TYPE_CHECKING:
    from types import ModuleType

_HINT = (
    "APP is module:attribute (shop.api:app), a module whose attribute `app` is the polyfn App, or "
    "a path to a .py file (./main.py or ./main.py:app)."
)


def _split(ref: str) -> tuple[str, str | None]:
    # A Windows drive letter ("C:\\x.py") is not an attribute separator.
    head, sep, tail = ref.rpartition(":")
    if sep and tail and "/" not in tail and "\\" not in tail and not tail.endswith(".py"):
        return head, tail
    return ref, None


def _where(exc: BaseException, origin: str | None) -> str:
    """The innermost traceback frame inside the user's code, as 'file, line N'."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" ({exc.filename}, line {exc.lineno})"
    for frame in reversed(frames):
        if origin is None or frame.filename.startswith(str(Path(origin).parent)):
            return f" ({frame.filename}, line {frame.lineno})"
    return ""


def _import_file(path: Path) -> ModuleType:
    folder = str(path.parent.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == str(path.resolve()):
        return existing
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load {str(path)!r} as Python source. {_HINT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_app(ref: str) -> App:
    """The `App` that `ref` names; a `UsageError` that says what went wrong otherwise."""
    target, attr = _split(ref.strip())
    if not target:
        raise UsageError(f"APP {ref!r} names no module. {_HINT}")
    is_path = target.endswith(".py") or os.sep in target or "/" in target
    origin: str | None = None
    try:
        if is_path:
            path = Path(target)
            if not path.is_file():
                raise UsageError(
                    f"APP file {target!r} does not exist (looked in {Path.cwd()}). {_HINT}"
                )
            origin = str(path.resolve())
            module = _import_file(path)
        else:
            cwd = os.getcwd()
            if cwd not in sys.path:
                sys.path.insert(0, cwd)
            module = importlib.import_module(target)
            origin = getattr(module, "__file__", None)
    except UsageError:
        raise
    except ModuleNotFoundError as exc:
        missing = exc.name or "?"
        if missing == target or target.startswith(missing + "."):
            raise UsageError(
                f"cannot import APP {ref!r}: no module named {missing!r} on the Python path "
                f"(current folder {Path.cwd()}). Run polyfn from your project's folder, install "
                f"the project, or pass the path to the .py file. {_HINT}"
            ) from exc
        raise UsageError(
            f"cannot import APP {ref!r}: it imports {missing!r}, which is not installed in this "
            f"Python ({sys.executable}). Install it (pip install ...) and try again."
        ) from exc
    except Exception as exc:
        raise UsageError(
            f"cannot import APP {ref!r}: importing it raised {type(exc).__name__}: {exc}"
            f"{_where(exc, origin)}. Fix that error (run with --debug for the traceback)."
        ) from exc
    return _pick(module, attr, ref)


def _pick(module: ModuleType, attr: str | None, ref: str) -> App:
    apps = {name: value for name, value in vars(module).items() if isinstance(value, App)}
    if attr is None:
        if "app" in apps:
            return apps["app"]
        if len(apps) == 1:
            return next(iter(apps.values()))
        found = ", ".join(sorted(apps)) or "none"
        raise UsageError(
            f"APP {ref!r}: module {module.__name__!r} has no polyfn App named 'app' (App objects "
            f"found: {found}). Name one: {module.__name__}:ATTRIBUTE."
        )
    value = getattr(module, attr, None)
    if isinstance(value, App):
        return value
    if value is None:
        found = ", ".join(sorted(apps)) or "none"
        raise UsageError(
            f"APP {ref!r}: module {module.__name__!r} has no attribute {attr!r} (polyfn App "
            f"objects in it: {found})."
        )
    raise UsageError(
        f"APP {ref!r}: {module.__name__}.{attr} is a {type(value).__name__}, not a polyfn App. "
        "Point at the App object itself (app = polyfn.App(...)), not an adapter's entry point."
    )
