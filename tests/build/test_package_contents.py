"""What `polyfn package` puts into a zip from the app's folder: the app's modules and declared
data files only, never a secret-bearing file or a link out of the folder; and bytecode for the
clouds' Python, hash-based, for every module in the zip."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from polyfn._cli import main

# Written into every secret file: the zip must not hold these bytes anywhere.
MARKER = b"polyfn-test-secret-0b5e"

APP_SOURCE = (
    "from polyfn import App\n"
    "from {helpers} import greeting\n"
    "app = App('shop')\n"
    "@app.http('/orders/{{order_id}}')\n"
    "def get_order(req, ctx):\n"
    "    return {{'hello': greeting()}}\n"
)

# Secret-bearing files a developer's app folder holds (relative to the folder searched).
SECRETS = [
    ".env",
    ".env.production",
    "prod.env",
    ".aws/credentials",
    ".aws/config",
    ".ssh/id_rsa",
    ".ssh/id_ed25519.pub",
    ".netrc",
    ".pypirc",
    "server.pem",
    "server.key",
    "store.p12",
    "local.settings.json",
    "credentials.json",
    "gcp-credentials.json",
    ".git/config",
    "terraform.tfstate",
]


def _secrets(folder: Path) -> None:
    for rel in SECRETS:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(MARKER + b" " + rel.encode())


def _outside(tmp_path: Path) -> Path:
    """A credentials file and a module outside the app's folder, for symbolic links to point at."""
    outside = tmp_path / "home"
    (outside / ".aws").mkdir(parents=True)
    (outside / ".aws" / "credentials").write_bytes(MARKER + b" linked")
    (outside / "stolen.py").write_bytes(b"# " + MARKER + b"\n")
    (outside / "folder").mkdir()
    (outside / "folder" / "inner.py").write_bytes(b"# " + MARKER + b"\n")
    return outside


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def _zip(out: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(out) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _path_app(tmp_path: Path) -> tuple[Path, str]:
    """An app given as a path: main.py in a folder full of secrets."""
    app_dir = tmp_path / "proj"
    app_dir.mkdir()
    (app_dir / "main.py").write_text(APP_SOURCE.format(helpers="helpers"))
    (app_dir / "helpers.py").write_text("def greeting():\n    return 'hi'\n")
    (app_dir / "lib").mkdir()
    (app_dir / "lib" / "__init__.py").write_text("")
    (app_dir / "README.md").write_text("docs, not code\n")
    _secrets(app_dir)
    _secrets(app_dir / "lib")
    outside = _outside(tmp_path)
    _link(app_dir / "aws_creds", outside / ".aws" / "credentials")
    _link(app_dir / "stolen.py", outside / "stolen.py")
    _link(app_dir / "linked", outside / "folder")
    for name in ("main", "helpers", "lib"):  # an earlier test's, from another folder
        sys.modules.pop(name, None)
    return app_dir, str(app_dir / "main.py")


def _module_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """An app given as a module: a package with secrets inside it. Its name is new in each
    test, so no other test's module of that name is in sys.modules."""
    name = f"shop_{tmp_path.name.replace('-', '_')}"
    proj = tmp_path / "proj"
    pkg = proj / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(APP_SOURCE.format(helpers=f"{name}.helpers"))
    (pkg / "helpers.py").write_text("def greeting():\n    return 'hi'\n")
    _secrets(pkg)
    _secrets(proj)  # beside the package: never looked at
    outside = _outside(tmp_path)
    _link(pkg / "aws_creds", outside / ".aws" / "credentials")
    _link(pkg / "stolen.py", outside / "stolen.py")
    monkeypatch.chdir(proj)
    monkeypatch.syspath_prepend(str(proj))
    return pkg, name


@pytest.mark.parametrize("form", ["path", "path:attr", "module", "module:attr"])
@pytest.mark.parametrize("provider", ["aws", "gcp"])
def test_package_never_ships_secrets_or_links_out_of_the_app(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    form: str,
    provider: str,
) -> None:
    if form.startswith("path"):
        folder, ref = _path_app(tmp_path)
        expected = {"main.py", "helpers.py", "lib/__init__.py"}
    else:
        folder, ref = _module_app(tmp_path, monkeypatch)
        expected = {f"{ref}/__init__.py", f"{ref}/helpers.py"}
    if form.endswith(":attr"):
        ref += ":app"
    out = tmp_path / "dist" / "app.zip"
    assert main(["package", ref, "--provider", provider, "--out", str(out)]) == 0
    files = _zip(out)
    assert expected <= set(files)
    leaked = sorted(n for n, data in files.items() if MARKER in data)
    assert leaked == []
    for rel in SECRETS:
        assert not any(n.endswith(rel) for n in files), rel
    assert not any(n.endswith(("aws_creds", "stolen.py", "README.md")) for n in files)

    stdout = capsys.readouterr().out
    secret_line = next(line for line in stdout.splitlines() if "secret-bearing" in line)
    prefix = "" if form.startswith("path") else f"{folder.name}/"
    for shown in (".env", ".aws/", ".ssh/", ".netrc", "local.settings.json", "server.pem"):
        assert f"{prefix}{shown}" in secret_line, shown
    assert "symbolic link to outside the app folder" in stdout
    assert f"{prefix}aws_creds" in stdout and f"{prefix}stolen.py" in stdout


def test_polyfnignore_and_declared_data_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_dir, ref = _path_app(tmp_path)
    (app_dir / "templates" / "mail").mkdir(parents=True)
    (app_dir / "templates" / "mail" / "order.html").write_text("<p>order</p>")
    (app_dir / "templates" / "mail" / ".env").write_bytes(MARKER)
    (app_dir / "data").mkdir()
    (app_dir / "data" / "rates.json").write_text("{}")
    (app_dir / "data" / "notes.txt").write_text("not declared")
    (app_dir / "tests").mkdir()
    (app_dir / "tests" / "test_main.py").write_text("")
    (app_dir / "scratch_test.py").write_text("")
    (app_dir / "keep_test.py").write_text("")
    (app_dir / ".polyfnignore").write_text(
        "# tests stay home\ntests/\n*_test.py\n!keep_test.py\n/helpers.py\n"
    )
    (app_dir / ".polyfninclude").write_text("templates/\n.env\n")
    out = tmp_path / "app.zip"
    argv = ["package", ref, "--provider", "aws", "--out", str(out), "--include", "data/*.json"]
    # helpers.py is ignored, but the app imports it: the zip does not hold it, and a warning
    # says the import would fail in the cloud.
    assert main(argv) == 0
    names = set(_zip(out))
    assert {"templates/mail/order.html", "data/rates.json", "keep_test.py", "main.py"} <= names
    assert not names & {"data/notes.txt", "tests/test_main.py", "scratch_test.py", "helpers.py"}
    assert not any(n.endswith(".env") for n in names)  # declared, but on the deny-list
    captured = capsys.readouterr()
    stdout = captured.out
    assert "left out (matches .polyfnignore): helpers.py, scratch_test.py, tests/" in stdout
    assert "templates/mail/.env" in stdout
    err = " ".join(captured.err.split())
    assert "warning: the app imported helpers.py (module helpers), but the zip does not" in err


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "matched"),
    [
        ("*.json", "a/b/c.json", False, True),
        ("/*.json", "a/c.json", False, False),
        ("/*.json", "c.json", False, True),
        ("docs/", "docs", False, False),
        ("docs/", "docs", True, True),
        ("docs/", "docs/x/y.md", False, True),
        ("a/**/z.txt", "a/z.txt", False, True),
        ("a/**/z.txt", "a/b/c/z.txt", False, True),
        ("a/*/z.txt", "a/b/c/z.txt", False, False),
        ("data/?.csv", "data/1.csv", False, True),
        ("data/[ab].csv", "data/c.csv", False, False),
        ("data/[!ab].csv", "data/c.csv", False, True),
        ("**/cache", "x/y/cache", True, True),
    ],
)
def test_patterns_follow_gitignore(pattern: str, path: str, is_dir: bool, matched: bool) -> None:
    from polyfn._package import Patterns

    assert Patterns([pattern]).match(path, is_dir=is_dir) is matched


def test_negation_last_match_wins() -> None:
    from polyfn._package import Patterns

    patterns = Patterns(["*.txt", "!keep.txt", "# comment", ""])
    assert patterns.match("a/drop.txt") and not patterns.match("a/keep.txt")
    assert Patterns(["!x", "x"]).match("x")


def _pyc_flags(data: bytes) -> int:
    return int.from_bytes(data[4:8], "little")


def test_every_module_in_the_zip_has_hash_based_bytecode_that_python_uses(
    tmp_path: Path,
) -> None:
    _, ref = _path_app(tmp_path)
    out = tmp_path / "aws.zip"
    assert main(["package", ref, "--provider", "aws", "--out", str(out)]) == 0
    files = _zip(out)
    modules = [n for n in files if n.endswith(".py")]
    assert {"main.py", "polyfn/__init__.py", "polyfn_aws/_handler.py"} <= set(modules)
    tag = sys.implementation.cache_tag
    for name in modules:
        folder, _, file = name.rpartition("/")
        pyc = f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.{tag}.pyc"
        data = files[pyc]
        assert data[:4] == importlib.util.MAGIC_NUMBER
        assert _pyc_flags(data) == 0b11  # hash-based, checked against the source
        assert data[8:16] == importlib.util.source_hash(files[name])
    # No stale cache of the developer's machine: every .pyc belongs to a .py of the zip.
    assert len([n for n in files if n.endswith(".pyc")]) == len(modules)

    # Unzipped read-only with no bytecode writes (Lambda's /var/task), Python loads every
    # module of polyfn, the adapter, the app and the entry from the zip's .pyc.
    root = tmp_path / "task"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root)
    # The HTTP routes' shared Lambda runs polyfn_entry.py; other functions polyfn_entry_<name>.py.
    entry = next(n[:-3] for n in files if n.startswith("polyfn_entry") and n.endswith(".py"))
    code = f"import sys\nsys.path.insert(0, {str(root)!r})\nimport {entry}\n"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-S", "-v", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    compiled = [
        line
        for line in done.stderr.splitlines()
        if line.startswith("# code object from ") and str(root) in line
    ]
    from_pyc = [line for line in compiled if line.endswith(".pyc'")]
    assert compiled and compiled == from_pyc, "\n".join(compiled)
    assert any("polyfn_aws" in line for line in from_pyc)


def test_edited_source_wins_over_its_bytecode(tmp_path: Path) -> None:
    """Checked hashes: a module edited after packaging (Lambda's console editor) runs as edited."""
    _, ref = _path_app(tmp_path)
    out = tmp_path / "aws.zip"
    assert main(["package", ref, "--provider", "aws", "--out", str(out)]) == 0
    root = tmp_path / "task"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root)
    (root / "helpers.py").write_text("def greeting():\n    return 'edited'\n")
    code = f"import sys\nsys.path.insert(0, {str(root)!r})\n"
    code += "import helpers\nprint(helpers.greeting())\n"
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "edited"


def test_another_python_gets_a_warning_and_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("polyfn._package.WHEEL_PYTHON", "3.99")
    _, ref = _path_app(tmp_path)
    out = tmp_path / "aws.zip"
    assert main(["package", ref, "--provider", "aws", "--out", str(out)]) == 0
    assert not any(n.endswith(".pyc") for n in _zip(out))
    err = capsys.readouterr().err
    assert "warning: " in err and "the clouds run CPython 3.99" in err
    assert "zip holds no .pyc" in err
