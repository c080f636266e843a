"""Deployment zips, whatever the cloud: the app's source, polyfn and one adapter, generated entry
files, and third-party wheels for the cloud's Linux runtime.

Which adapter, which entry files and which third-party requirements a cloud needs is the
adapter's knowledge (its ``_build`` module); this module only assembles. polyfn and the adapters
are not on PyPI, so they are copied from the local source tree, never installed from an index.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from polyfn._errors import ConfigError
from polyfn._generated import refuse_to_replace

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from polyfn._app import App

# What never belongs in a deployment: caches, VCS metadata, virtual environments, earlier builds.
EXCLUDED_DIRS = frozenset(
    {
        "__pycache__",
        ".git",
        ".hg",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".venv",
        "venv",
        "node_modules",
        "dist",
        "build",
        ".polyfn",
    }
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".zip")

# Linux wheels for the Python the clouds run (Lambda python3.11 on x86_64, Azure Functions and
# Cloud Run functions python311): pip's cross-platform install options.
# https://pip.pypa.io/en/stable/cli/pip_install/#cmdoption-platform
WHEEL_PLATFORM = "manylinux2014_x86_64"
WHEEL_PYTHON = "3.11"

# Distributions of this repository: copied from source, never asked of an index.
LOCAL_DISTRIBUTIONS = frozenset({"polyfn", "polyfn-aws", "polyfn-azure", "polyfn-gcp"})


class AppSource:
    """Where an app's code lives: `root` is the folder that goes on sys.path, `paths` what to
    copy from it, `app_ref` the ``module:attribute`` that imports the App from there."""

    __slots__ = ("app_ref", "paths", "root")

    def __init__(self, root: Path, paths: list[Path], app_ref: str) -> None:
        self.root = root
        self.paths = paths
        self.app_ref = app_ref


def locate_app(ref: str, app: App) -> AppSource:
    """The source files behind the APP reference `ref` (already loaded as `app`).

    A path (``src/main.py``): its folder, recursively, so the app's sibling modules come along.
    A module (``shop.api:app``): its top-level package, or the single module file.
    """
    head, sep, tail = ref.strip().rpartition(":")
    target, attr = (
        (head, tail)
        if sep and tail and "/" not in tail and ".py" not in tail
        else (
            ref.strip(),
            None,
        )
    )
    if target.endswith(".py") or "/" in target or os.sep in target:
        path = Path(target).resolve()
        module_name = path.stem
        module = sys.modules.get(module_name)
        attr = attr or _attribute_of(module, app, ref)
        return AppSource(path.parent, [path.parent], f"{module_name}:{attr}")
    module = sys.modules.get(target)
    attr = attr or _attribute_of(module, app, ref)
    top = target.split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None or (spec.origin is None and not spec.submodule_search_locations):
        raise ConfigError(f"cannot find the source of module {top!r} to package APP {ref!r}")
    if spec.submodule_search_locations:
        package_dir = Path(next(iter(spec.submodule_search_locations))).resolve()
        return AppSource(package_dir.parent, [package_dir], f"{target}:{attr}")
    origin = Path(spec.origin or "").resolve()
    return AppSource(origin.parent, [origin], f"{target}:{attr}")


def _attribute_of(module: object, app: App, ref: str) -> str:
    for name, value in vars(module).items() if module is not None else ():
        if value is app:
            return name
    raise ConfigError(
        f"cannot tell which attribute of APP {ref!r} holds the App; name it: {ref}:app"
    )


def package_dir(name: str) -> Path:
    """The source folder of an importable package (polyfn or an adapter)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"package {name!r} is not installed; install it (pip install -e adapters/...) first"
        )
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def walk(path: Path, exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Every file under `path` (or `path` itself), minus caches, VCS data and virtualenvs."""
    skip = {p.resolve() for p in exclude}
    if path.is_file():
        yield path
        return
    for folder, dirs, files in os.walk(path):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in EXCLUDED_DIRS
            and not (here / d / "pyvenv.cfg").exists()
            and (here / d).resolve() not in skip
            and not d.endswith(".egg-info")
        )
        for f in sorted(files):
            if not f.endswith(EXCLUDED_SUFFIXES) and (here / f).resolve() not in skip:
                yield here / f


def third_party_requirements(distributions: Iterable[str], extras: Iterable[str] = ()) -> list[str]:
    """The requirements the given distributions and the core declare, minus this repository's
    own distributions. `extras` selects optional requirements of the core (``models``)."""
    wanted = set(extras)
    out: list[str] = []
    for dist in dict.fromkeys([*distributions, "polyfn"]):
        for req in importlib.metadata.requires(dist) or []:
            spec, _, marker = req.partition(";")
            name = spec.strip().split("[")[0]
            for op in "<>=!~ ":
                name = name.split(op)[0]
            if name.lower().replace("_", "-") in LOCAL_DISTRIBUTIONS:
                continue
            if marker.strip():
                extra = marker.split("extra")[-1].strip(" =\"'")
                if "extra" not in marker or extra not in wanted:
                    continue
            line = spec.strip()
            if line not in out:
                out.append(line)
    return out


def app_extras(app: App) -> list[str]:
    """The core's extras the app needs: ``models`` when a route declares a pydantic body."""
    from polyfn._app import HttpTrigger

    uses_models = any(
        isinstance(f.trigger, HttpTrigger) and f.trigger.body is not None for f in app.functions
    )
    return ["models"] if uses_models else []


def install_wheels(requirements: list[str], target: Path) -> None:
    """pip-install `requirements` as Linux wheels for the clouds' Python 3.11 into `target`.

    Only binary wheels (``--only-binary=:all:``): a source build would compile for this machine,
    not for the cloud's. pip reads its usual configuration (PIP_INDEX_URL, PIP_FIND_LINKS ...)."""
    if not requirements:
        return
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        WHEEL_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        WHEEL_PYTHON,
        "--only-binary=:all:",
        "--upgrade",
        *requirements,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ConfigError(
            f"pip could not fetch Linux wheels for {', '.join(requirements)}: "
            f"{detail[-1] if detail else 'exit ' + str(done.returncode)}. Check the names and "
            "that each has a manylinux2014_x86_64 or pure-Python wheel for Python 3.11."
        )


class PackageReport:
    """What `write_zip` wrote: the file, its size in bytes, how many entries, and their names."""

    __slots__ = ("files", "path", "size")

    def __init__(self, path: Path, size: int, files: list[str]) -> None:
        self.path = path
        self.size = size
        self.files = files

    def summary(self) -> str:
        return f"wrote {self.path} ({human_size(self.size)}, {len(self.files)} files)"


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} MB"  # pragma: no cover - the loop always returns


def write_zip(
    out: Path,
    *,
    source: AppSource,
    packages: Iterable[str],
    files: Mapping[str, str],
    requirements: list[str],
    vendor: bool,
    site_packages: str = "",
) -> PackageReport:
    """Write the deployment zip `out`.

    `packages` (polyfn and an adapter) are copied from source, `files` (generated entry files,
    name -> text) go to the zip's root, `requirements` are installed as Linux wheels under
    `site_packages` when `vendor`, else listed in a requirements.txt for the cloud's own build.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Path | str] = {}
    for path in source.paths:
        for f in walk(path, exclude=[out.parent] if out.parent != source.root else []):
            entries[f.relative_to(source.root).as_posix()] = f
    for name in packages:
        pkg = package_dir(name)
        for f in walk(pkg):
            entries[f"{name}/{f.relative_to(pkg).as_posix()}"] = f
    for name in files:
        # Never over a file of the app's: the entry would import itself (polyfn._generated).
        existing = entries.get(name)
        if isinstance(existing, Path):
            refuse_to_replace(existing, name)
    entries.update(files)
    with tempfile.TemporaryDirectory(prefix="polyfn-wheels-") as tmp:
        if vendor:
            install_wheels(requirements, Path(tmp))
            prefix = f"{site_packages.strip('/')}/" if site_packages else ""
            for f in walk(Path(tmp)):
                rel = f.relative_to(tmp).as_posix()
                if not rel.startswith("bin/"):
                    entries[prefix + rel] = f
        elif requirements:
            entries["requirements.txt"] = "\n".join(requirements) + "\n"
        _zip(out, entries)
    return PackageReport(out, out.stat().st_size, sorted(entries))


def _zip(out: Path, entries: Mapping[str, Path | str]) -> None:
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            value = entries[name]
            # Fixed timestamps and modes: the same input gives the same zip, byte for byte, so a
            # redeploy of unchanged code uploads the same object. 0o644 so the Lambda runtime
            # user can read every file.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = value.read_bytes() if isinstance(value, Path) else value.encode()
            zf.writestr(info, data)
    tmp.replace(out)
