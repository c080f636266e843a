"""`polyfn package`: a zip with the app, polyfn and one adapter copied from source, the generated
entries, and that cloud's third-party dependencies only."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from polyfn_aws._build import requirements as aws_requirements

from polyfn import App
from polyfn._cli import main
from polyfn._package import third_party_requirements
from tests.build import richapp

APP_REF = f"{Path(richapp.__file__).resolve()}:app"
OTHER_CLOUDS = ("azure/", "flask/", "functions_framework/", "google/", "werkzeug/", "polyfn_gcp/")


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def test_aws_package_holds_only_the_app_polyfn_and_polyfn_aws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "aws.zip"
    assert main(["package", APP_REF, "--provider", "aws", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert f"wrote {out.resolve()} (" in stdout and " KB, " in stdout
    names = _names(out)
    assert "polyfn/__init__.py" in names and "polyfn_aws/__init__.py" in names
    assert "richapp.py" in names
    assert "polyfn_entry_on_order.py" in names
    for prefix in (*OTHER_CLOUDS, "polyfn_azure/"):
        assert not any(n.startswith(prefix) for n in names), prefix
    # Bytecode: only polyfn's own, one .pyc per .py of the zip (no cache from this machine).
    pycs = [n for n in names if n.endswith(".pyc")]
    assert len(pycs) == len([n for n in names if n.endswith(".py")])
    assert "requirements.txt" not in names  # Lambda installs nothing: everything is inside
    assert out.stat().st_size < 1_000_000

    # The zip runs on its own: a Python with no site-packages imports every entry module.
    root = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root)
    entries = [n[:-3] for n in names if n.startswith("polyfn_entry_")]
    code = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        f"for name in {entries!r}:\n"
        "    assert callable(importlib.import_module(name).handler)\n"
        "assert not any(m.split('.')[0] in ('azure', 'flask', 'boto3') for m in sys.modules)\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_aws_package_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    assert main(["package", APP_REF, "--provider", "aws", "--out", str(a)]) == 0
    assert main(["package", APP_REF, "--provider", "aws", "--out", str(b)]) == 0
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        assert [n for n in za.namelist() if za.read(n) != zb.read(n)] == []
    assert a.read_bytes() == b.read_bytes()


def test_requirements_per_cloud() -> None:
    assert aws_requirements(richapp.app) == []
    assert third_party_requirements(["polyfn-azure"]) == ["azure-functions>=1.18"]
    assert third_party_requirements(["polyfn-gcp"]) == [
        "functions-framework>=3.5",
        "google-auth>=2.22",
    ]
    import pydantic

    class Order(pydantic.BaseModel):
        id: int

    app = App("models")
    app.http("/o", methods=["POST"], body=Order, function_name="create")(lambda r, c, m: None)
    assert aws_requirements(app) == ["pydantic>=2"]


@pytest.mark.parametrize(
    ("provider", "entry", "requirement"),
    [
        ("azure", "function_app.py", "azure-functions"),
        ("gcp", "main.py", "functions-framework google-auth"),
    ],
)
def test_remote_build_packages_list_the_cloud_requirements(
    tmp_path: Path, provider: str, entry: str, requirement: str
) -> None:
    out = tmp_path / f"{provider}.zip"
    assert main(["package", APP_REF, "--provider", provider, "--out", str(out)]) == 0
    names = _names(out)
    assert entry in names and f"polyfn_{provider}/__init__.py" in names
    assert "polyfn_aws/__init__.py" not in names
    with zipfile.ZipFile(out) as zf:
        reqs = zf.read("requirements.txt").decode().split()
        if provider == "azure":
            assert "host.json" in names
    assert [r.split(">")[0] for r in reqs] == requirement.split()
    # The cloud's build installs them: nothing third-party inside.
    others = tuple(p for p in OTHER_CLOUDS if p != f"polyfn_{provider}/")
    assert not any(n.startswith(others) for n in names)


def _wheel(folder: Path, name: str = "polyfn_testdep", version: str = "1.0") -> None:
    """A minimal pure-Python wheel, so pip can run offline (--no-index --find-links)."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"VALUE = 42\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)


@pytest.mark.parametrize(
    ("provider", "prefix"), [("aws", ""), ("azure", ".python_packages/lib/site-packages/")]
)
def test_vendor_installs_linux_wheels_into_the_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str, prefix: str
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("# the app's own\npolyfn-testdep==1.0\npolyfn[aws]\n")
    if provider == "azure":
        # azure-functions itself would come from PyPI; offline, the test wheel stands for it.
        monkeypatch.setattr(
            "polyfn_azure._provider.AzureProvider.requirements", lambda self, app: []
        )
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    out = tmp_path / "v.zip"
    argv = ["package", APP_REF, "--provider", provider, "--out", str(out), "-r", str(reqs)]
    assert main([*argv, "--deps", "vendor"]) == 0
    names = _names(out)
    assert f"{prefix}polyfn_testdep/__init__.py" in names
    assert f"{prefix}polyfn_testdep-1.0.dist-info/METADATA" in names
    assert "requirements.txt" not in names


def test_remote_deps_are_refused_on_aws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "package",
            APP_REF,
            "--provider",
            "aws",
            "--deps",
            "remote",
            "--out",
            str(tmp_path / "x.zip"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "Lambda runs the zip as it is" in err and "--deps vendor" in err


def test_a_wheel_pip_cannot_find_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("polyfn-no-such-thing==9\n")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    code = main(
        ["package", APP_REF, "--provider", "aws", "--out", str(tmp_path / "x.zip"), "-r", str(reqs)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "pip could not fetch Linux wheels for polyfn-no-such-thing==9" in err
    assert not (tmp_path / "x.zip").exists()


def test_package_of_a_module_ref_takes_its_top_level_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "shop"
    (pkg / "api").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "api" / "__init__.py").write_text(
        "from polyfn import App\nfrom shop.util import hello\napp = App('shop')\n"
        "@app.http('/')\ndef home(req, ctx):\n    return hello()\n"
    )
    (pkg / "util.py").write_text("def hello():\n    return 'hi'\n")
    (tmp_path / "unrelated.txt").write_text("not packaged")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert main(["package", "shop.api", "--provider", "aws", "--out", "dist/shop.zip"]) == 0
    names = _names(tmp_path / "dist" / "shop.zip")
    assert {"shop/__init__.py", "shop/api/__init__.py", "shop/util.py"} <= set(names)
    assert "unrelated.txt" not in names
    entry = zipfile.ZipFile(tmp_path / "dist" / "shop.zip").read("polyfn_entry.py").decode()
    assert "from shop.api import app as _app" in entry
    for mod in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        monkeypatch.delitem(sys.modules, mod)
    assert os.environ.get("PIP_NO_INDEX") is None


def _run_from(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh Python whose first import location is the unzipped package."""
    prelude = f"import sys\nsys.path.insert(0, {str(root)!r})\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
        check=False,
    )


def test_gcp_package_serves_through_functions_framework(tmp_path: Path) -> None:
    out = tmp_path / "gcp.zip"
    assert main(["package", APP_REF, "--provider", "gcp", "--out", str(out)]) == 0
    root = tmp_path / "src"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root)
    code = (
        "import json, functions_framework, polyfn, polyfn_gcp\n"
        f"assert polyfn.__file__.startswith({str(root)!r}), polyfn.__file__\n"
        f"assert polyfn_gcp.__file__.startswith({str(root)!r}), polyfn_gcp.__file__\n"
        "app = functions_framework.create_app('polyfn_http', 'main.py', 'http')\n"
        "resp = app.test_client().get('/orders/7')\n"
        "print(resp.status_code, json.dumps(resp.get_json()))\n"
    )
    done = _run_from(root, code)
    assert done.stdout.strip() == '200 {"id": "7"}', done.stderr


def test_azure_package_indexes_from_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "azure.zip"
    assert main(["package", APP_REF, "--provider", "azure", "--out", str(out)]) == 0
    root = tmp_path / "src"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root)
    code = (
        "import polyfn_azure, function_app\n"
        f"assert polyfn_azure.__file__.startswith({str(root)!r}), polyfn_azure.__file__\n"
        "print(sorted(f.get_function_name() for f in function_app.app.get_functions()))\n"
    )
    done = _run_from(root, code)
    expected = sorted(fn.name for fn in richapp.app.functions)
    assert done.stdout.strip() == repr(expected), done.stderr
