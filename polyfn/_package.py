"""Deployment zips, whatever the cloud: the app's source, polyfn and one adapter, generated entry
files, and third-party wheels for the cloud's Linux runtime.

Which adapter, which entry files and which third-party requirements a cloud needs is the
adapter's knowledge (its ``_build`` module); this module only assembles. polyfn and the adapters
are not on PyPI, so they are copied from the local source tree, never installed from an index.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import marshal
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from polyfn._errors import ConfigError
from polyfn._generated import refuse_to_replace

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

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

# Secret-bearing names, left out of every package whatever .polyfninclude or --include say:
# environment and credential files of the tools a developer's folder holds (AWS CLI ~/.aws, SSH
# keys, netrc, PyPI and npm tokens, Docker and kubectl configs, gcloud's
# application_default_credentials.json and service-account keys, Terraform state), Azure
# Functions' local.settings.json (Core Tools' .funcignore leaves it out: "not published to
# Azure"), key and certificate stores, and VCS metadata (gcloud's default .gcloudignore leaves
# out .git). Matched against each file or folder name, at any depth (fnmatch patterns).
# https://cloud.google.com/sdk/gcloud/reference/topic/gcloudignore
# https://learn.microsoft.com/en-us/azure/azure-functions/functions-run-local#local-settings-file
SECRET_DIRS = (
    ".aws", ".azure", ".config", ".docker", ".git", ".gnupg", ".hg", ".kube", ".ssh", ".svn",
    ".terraform",
)  # fmt: skip
SECRET_FILES = (
    ".env", ".env.*", "*.env", ".envrc", ".netrc", "_netrc", ".pypirc", ".npmrc", ".pgpass",
    ".git-credentials", ".htpasswd", ".dockercfg", "id_rsa*", "id_dsa*", "id_ecdsa*",
    "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.ppk",
    "local.settings.json", "credentials", "credentials.json", "*credentials*.json",
    "client_secret*.json", "service-account*.json", "*.tfstate", "*.tfstate.backup",
)  # fmt: skip

# The app's own files to leave out (.polyfnignore) and data files to ship (.polyfninclude), in
# the app's root folder; gitignore-style patterns (see `Patterns`).
IGNORE_FILE = ".polyfnignore"
INCLUDE_FILE = ".polyfninclude"

_CONTROL_FILES = frozenset({IGNORE_FILE, INCLUDE_FILE})

# Why a file of the app was left out, as `package` prints it.
LEFT_OUT_SECRET = "secret-bearing name (built-in deny-list)"
LEFT_OUT_IGNORED = f"matches {IGNORE_FILE}"
LEFT_OUT_LINK = "symbolic link to outside the app folder"
LEFT_OUT_LINKED_DIR = "symbolic link to a folder (not followed)"
LEFT_OUT_NOT_CODE = f"not a Python module, and not declared as data ({INCLUDE_FILE} or --include)"
LEFT_OUT_TOOLING = "cache, virtual environment or build output"

# Linux wheels for the Python the clouds run (Lambda python3.11 on x86_64, Azure Functions and
# Cloud Run functions python311): pip's cross-platform install options.
# https://pip.pypa.io/en/stable/cli/pip_install/#cmdoption-platform
WHEEL_PLATFORM = "manylinux2014_x86_64"
WHEEL_PYTHON = "3.11"

# Bytecode in the zip: Lambda's /var/task is read-only, so without .pyc every cold start compiles
# polyfn, the adapter, the app and its dependencies from source (+29 to +38 ms for an AWS package
# of a 4-function app: docs/performance.md). Azure run-from-package mounts the zip read-only too.
# The .pyc files are hash-based (PEP 552), so the zip's fixed timestamps cannot make them look
# stale or fresh. CHECKED: the importer hashes the .py before using its .pyc, so a file edited
# after packaging (Lambda's console editor edits the deployed files) is compiled afresh, never
# run from an out-of-date .pyc. The price, measured: hashing all 358 KB of source of an AWS zip
# takes 0.2 ms, plus reading each imported module's source; bench/cold_start.py's paired rows
# put CHECKED at -0.4 and +1.6 ms from UNCHECKED (no check at import) in two runs, within the
# shared machine's noise, against +29 to +34 ms for the same zip without .pyc
# (docs/performance.md, "Cold start as deployed").
# https://peps.python.org/pep-0552/
BYTECODE_CHECKED = True


def local_distributions() -> frozenset[str]:
    """polyfn and every installed provider's distribution (normalised names): copied from
    source into a package, never asked of an index."""
    from polyfn._provider import distributions

    return frozenset({"polyfn", *distributions()})


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


def walk(path: Path) -> Iterator[Path]:
    """Every file under `path` (polyfn, an adapter, installed wheels), minus caches and VCS data."""
    if path.is_file():
        yield path
        return
    for folder, dirs, files in os.walk(path):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not _tooling(here / d))
        for f in sorted(files):
            if not f.endswith(EXCLUDED_SUFFIXES):
                yield here / f


def _tooling(folder: Path) -> bool:
    """A cache, virtual environment, earlier build or packaging metadata folder."""
    name = folder.name
    return name in EXCLUDED_DIRS or name.endswith(".egg-info") or (folder / "pyvenv.cfg").exists()


class Patterns:
    """Gitignore-style patterns, the subset `.polyfnignore`, `.polyfninclude` and ``--include``
    understand: one pattern a line; blank lines and ``#`` comments skipped; ``!`` negates (the
    last matching pattern decides); ``*`` and ``?`` match within one path segment, ``[abc]`` a
    character class, ``**`` any number of segments; a leading ``/`` or a ``/`` inside anchors the
    pattern to the app's root, otherwise it matches a name at any depth; a trailing ``/``
    matches folders only; a pattern that matches a folder covers everything in it."""

    __slots__ = ("rules",)

    def __init__(self, lines: Iterable[str]) -> None:
        self.rules: list[tuple[re.Pattern[str], bool, bool]] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            line = line[1:] if negate else line
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line  # a leading or inner slash: relative to the root
            body = _glob_regex(line.lstrip("/"))
            regex = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
            self.rules.append((re.compile(regex), negate, dir_only))

    @classmethod
    def read(cls, path: Path, extra: Sequence[str] = ()) -> Patterns:
        """The patterns of the file `path` (none if it does not exist), then `extra`."""
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        return cls([*lines, *extra])

    def __bool__(self) -> bool:
        return bool(self.rules)

    def match(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether the path `rel` (relative to the root, with ``/``) or a folder it is in
        matches; the last matching pattern wins."""
        parts = rel.split("/")
        candidates = [("/".join(parts[: i + 1]), True) for i in range(len(parts) - 1)]
        candidates.append((rel, is_dir))
        matched = False
        for regex, negate, dir_only in self.rules:
            if any(regex.match(c) and (d or not dir_only) for c, d in candidates):
                matched = not negate
        return matched


def _glob_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _secret(name: str, *, is_dir: bool) -> bool:
    import fnmatch

    if is_dir:
        return name in SECRET_DIRS
    return any(fnmatch.fnmatchcase(name, p) for p in SECRET_FILES)


class AppFiles:
    """The app's files that go into a package (zip name -> file), and what was left out, by
    reason (`LEFT_OUT_*` -> names relative to the app's root; folders end with ``/``)."""

    __slots__ = ("files", "left_out")

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.left_out: dict[str, list[str]] = {}

    def leave_out(self, reason: str, name: str) -> None:
        self.left_out.setdefault(reason, []).append(name)


def app_files(
    source: AppSource, includes: Sequence[str] = (), skip: Path | None = None
) -> AppFiles:
    """What of the app goes into its package: the Python modules of its module or package tree
    (`source.paths`), plus the data files declared in the root's `.polyfninclude` and by
    `includes` (the same patterns), minus what `.polyfnignore` names, any secret-bearing name,
    and any symbolic link that leaves the root. `skip` is a folder never looked into (where the
    zip is written)."""
    root = source.root
    ignore = Patterns.read(root / IGNORE_FILE)
    declared = Patterns.read(root / INCLUDE_FILE, includes)
    selection = AppFiles()
    for top in source.paths:
        _select(top, root, ignore, declared, selection, report=True, skip=skip)
    if declared:
        # Data files may live beside the package (templates/ next to shop/): look in the whole
        # root, and report only what was declared but refused.
        _select(root, root, ignore, declared, selection, report=False, skip=skip)
    for names in selection.left_out.values():
        names[:] = sorted(set(names))
    return selection


def _select(
    top: Path,
    root: Path,
    ignore: Patterns,
    declared: Patterns,
    out: AppFiles,
    *,
    report: bool,
    skip: Path | None,
) -> None:
    def refuse(path: Path, rel: str, is_dir: bool) -> str | None:
        """Why `path` stays out, or None."""
        if _secret(path.name, is_dir=is_dir):
            return LEFT_OUT_SECRET
        if path.is_symlink():
            target = path.resolve()
            if target != root and root not in target.parents:
                return LEFT_OUT_LINK
            if is_dir:
                return LEFT_OUT_LINKED_DIR
        if ignore.match(rel, is_dir=is_dir):
            return LEFT_OUT_IGNORED
        if is_dir and (_tooling(path) or path == skip):
            return LEFT_OUT_TOOLING
        return None

    def rel_of(path: Path) -> str:
        return path.relative_to(root).as_posix()

    # os.walk does not follow links (no loops, nothing outside) and prunes what `dirs` loses.
    tree = [(str(top.parent), [], [top.name])] if top.is_file() else os.walk(top)
    for folder, dirs, names in tree:
        here = Path(folder)
        kept = []
        for d in sorted(dirs):
            rel = rel_of(here / d)
            why = refuse(here / d, rel, True)
            if why is None:
                kept.append(d)
            elif d != "__pycache__" and (report or declared.match(rel, is_dir=True)):
                out.leave_out(why, rel + "/")
        dirs[:] = kept
        for f in sorted(names):
            path = here / f
            rel = rel_of(path)
            if rel in out.files or f.endswith(EXCLUDED_SUFFIXES) or rel in _CONTROL_FILES:
                continue
            wanted = (f.endswith(".py") and report) or declared.match(rel)
            why = refuse(path, rel, False) or (None if wanted else LEFT_OUT_NOT_CODE)
            if why is None:
                out.files[rel] = path
            elif report or wanted:
                out.leave_out(why, rel)


def third_party_requirements(distributions: Iterable[str], extras: Iterable[str] = ()) -> list[str]:
    """The requirements the given distributions and the core declare, minus polyfn's and the
    providers' own distributions. `extras` selects optional requirements of the core
    (``models``)."""
    wanted = set(extras)
    local = local_distributions()
    out: list[str] = []
    for dist in dict.fromkeys([*distributions, "polyfn"]):
        for req in importlib.metadata.requires(dist) or []:
            spec, _, marker = req.partition(";")
            name = spec.strip().split("[")[0]
            for op in "<>=!~ ":
                name = name.split(op)[0]
            if name.lower().replace("_", "-") in local:
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


def imported_but_left_out(source: AppSource, report: PackageReport) -> list[str]:
    """Warnings for the app's own modules this process imported (from the app's root) that the
    zip does not hold, so they would fail to import in the cloud (a .polyfnignore too broad)."""
    root = source.root
    inside = set(report.files)
    out = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not file.endswith(".py"):
            continue
        path = Path(file).resolve()
        if root not in path.parents:
            continue
        rel = path.relative_to(root)
        if any(p in EXCLUDED_DIRS or p == "site-packages" for p in rel.parts):
            continue  # an installed dependency, not the app's own code
        if rel.as_posix() not in inside:
            out.append(
                f"the app imported {rel.as_posix()} (module {module.__name__}), but the zip does "
                "not hold it, so that import fails in the cloud: take it out of "
                f"{IGNORE_FILE}, or rename it if its name is on the deny-list"
            )
    return sorted(out)


class PackageReport:
    """What `write_zip` wrote: the file, its size in bytes, the entries' names, how many .pyc
    files it compiled, and what of the app it left out, by reason."""

    __slots__ = ("bytecode", "files", "left_out", "path", "size")

    def __init__(
        self,
        path: Path,
        size: int,
        files: list[str],
        *,
        bytecode: int = 0,
        left_out: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.path = path
        self.size = size
        self.files = files
        self.bytecode = bytecode
        self.left_out = dict(left_out or {})

    def summary(self) -> str:
        pyc = f", {self.bytecode} compiled for Python {WHEEL_PYTHON}" if self.bytecode else ""
        return f"wrote {self.path} ({human_size(self.size)}, {len(self.files)} files{pyc})"

    def left_out_lines(self, limit: int = 12) -> list[str]:
        """One line per reason: what of the app's folder the zip does not hold, and why. Secret
        names are all listed; other reasons show the first `limit` names."""
        lines = []
        for reason, names in self.left_out.items():
            shown = names if reason == LEFT_OUT_SECRET else names[:limit]
            more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
            lines.append(f"left out ({reason}): {', '.join(shown)}{more}")
        return lines


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} MB"  # pragma: no cover - the loop always returns


def bytecode_problem() -> str | None:
    """Why this interpreter cannot compile bytecode for the clouds' Python, or None."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if sys.implementation.name == "cpython" and here == WHEEL_PYTHON:
        return None
    return (
        f"this is {sys.implementation.name} {here}, but the clouds run CPython {WHEEL_PYTHON}: "
        "its bytecode would not load there, so the zip holds no .pyc and each cold start "
        f"compiles every module from source (tens of ms). Run polyfn package with Python "
        f"{WHEEL_PYTHON} to include it."
    )


def pyc_name(name: str) -> str:
    """Where the importer looks for the bytecode of the zip entry `name` (``a/b.py``)."""
    folder, _, file = name.rpartition("/")
    tag = sys.implementation.cache_tag
    cached = f"__pycache__/{file[:-3]}.{tag}.pyc"
    return f"{folder}/{cached}" if folder else cached


def compile_pyc(source: bytes, name: str, *, checked: bool = BYTECODE_CHECKED) -> bytes | None:
    """The hash-based .pyc (PEP 552) of `source`, or None when it does not compile (a vendored
    file for another Python version: pip skips those too)."""
    try:
        code = compile(source, name, "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError):
        return None
    flags = 0b01 | (0b10 if checked else 0)  # hash-based; check the source's hash on import
    header = importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little")
    return header + importlib.util.source_hash(source) + marshal.dumps(code)


def write_zip(
    out: Path,
    *,
    source: AppSource,
    packages: Iterable[str],
    files: Mapping[str, str],
    requirements: list[str],
    vendor: bool,
    site_packages: str = "",
    includes: Sequence[str] = (),
    bytecode: bool = True,
) -> PackageReport:
    """Write the deployment zip `out`.

    The app's modules and declared data files (`app_files`), `packages` (polyfn and an adapter)
    copied from source, `files` (generated entry files, name -> text) at the zip's root;
    `requirements` installed as Linux wheels under `site_packages` when `vendor`, else listed in a
    requirements.txt for the cloud's own build. With `bytecode`, every .py also gets its .pyc.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    selection = app_files(source, includes, skip=out.parent if out.parent != source.root else None)
    entries: dict[str, Path | str] = dict(selection.files)
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
        compiled = _zip(out, entries, bytecode=bytecode)
    return PackageReport(
        out,
        out.stat().st_size,
        sorted(entries),
        bytecode=compiled,
        left_out=selection.left_out,
    )


def _zip(out: Path, entries: Mapping[str, Path | str], *, bytecode: bool) -> int:
    """Write `entries` (and the .pyc of each .py when `bytecode`); how many .pyc were written."""
    tmp = out.with_name(out.name + ".part")
    compiled = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, data: bytes) -> None:
            # Fixed timestamps and modes: the same input gives the same zip, byte for byte, so a
            # redeploy of unchanged code uploads the same object. 0o644 so the Lambda runtime
            # user can read every file.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)

        for name in sorted(entries):
            value = entries[name]
            data = value.read_bytes() if isinstance(value, Path) else value.encode()
            add(name, data)
            if bytecode and name.endswith(".py"):
                pyc = compile_pyc(data, name)
                if pyc is not None:
                    add(pyc_name(name), pyc)
                    compiled += 1
    tmp.replace(out)
    return compiled
