"""Every generated entry imports in a clean process, for every cloud and every form of APP.

`polyfn package` runs as a user runs it (a subprocess, in the project's folder); the zip is
unzipped and each entry is loaded the way its cloud loads it, by a Python that sees only the
unzipped folder and, for Azure and GCP, the cloud's own libraries (azure-functions,
functions-framework) from this virtualenv: Lambda imports the handler module and calls it once,
functions-framework loads each target from the entry file, the Azure worker imports the script
that PYTHON_SCRIPT_FILE_NAME names (function_app.py by default) and indexes its FunctionApp.

An app that is itself main.py (GCP) or function_app.py (Azure) is the case that once broke: the
generated entry replaced it and then imported itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.build._cli import run_polyfn

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = ("aws", "azure", "gcp")

# The app every form packages: one HTTP route, one schedule, one queue function, and a sibling
# module it imports (so the app's own imports are exercised from the zip too).
APP_SOURCE = """\
from polyfn import App

from {helpers} import greeting

app = App("entries")


@app.http("/hello")
def hello(req, ctx):
    return {{"message": greeting()}}


@app.schedule("0 1 * * *")
def tick(event, ctx):
    return None


@app.queue("jobs")
def work(msg, ctx):
    return None
"""
HELPERS = "def greeting():\n    return 'hi'\n"

# form -> (files to write, relative to the project folder; APP as given to polyfn)
FORMS: dict[str, tuple[dict[str, str], str]] = {
    "path": (
        {"svc.py": APP_SOURCE.format(helpers="svc_helpers"), "svc_helpers.py": HELPERS},
        "./svc.py",
    ),
    # A single-module app is packaged alone: its helper lives in it.
    "module": (
        {"svcmod.py": APP_SOURCE.format(helpers="x").replace("from x import greeting\n", HELPERS)},
        "svcmod",
    ),
    "module:attr": (
        {
            "shopx/__init__.py": "",
            "shopx/api.py": APP_SOURCE.format(helpers="shopx.helpers")
            .replace("app = App", "application = App")
            .replace("@app.", "@application."),
            "shopx/helpers.py": HELPERS,
        },
        "shopx.api:application",
    ),
    "main.py": (
        {"main.py": APP_SOURCE.format(helpers="svc_helpers"), "svc_helpers.py": HELPERS},
        "./main.py",
    ),
    "function_app.py": (
        {"function_app.py": APP_SOURCE.format(helpers="svc_helpers"), "svc_helpers.py": HELPERS},
        "./function_app.py",
    ),
    # The app beside hand-written entries of the user's (as in samples/): they are kept.
    "beside entries": (
        {
            "svc.py": APP_SOURCE.format(helpers="svc_helpers"),
            "svc_helpers.py": HELPERS,
            "main.py": "# the user's own main.py\n",
            "function_app.py": "# the user's own function_app.py\n",
        },
        "./svc.py",
    ),
}
# The forms whose package holds a main.py / function_app.py of the user's.
HAS_MAIN_PY = ("main.py", "beside entries")
HAS_FUNCTION_APP_PY = ("function_app.py", "beside entries")

# What each cloud's loader does with the unzipped package, run by `python -I -S`.
_PRELUDE = """\
import importlib, json, os, sys
root, libs = sys.argv[1], sys.argv[2:]
sys.path[:0] = [root, *libs]
os.chdir(root)
import polyfn
assert polyfn.__file__.startswith(root), polyfn.__file__  # polyfn from the zip, not the venv
"""

_AWS = """\
from polyfn_aws import sample_event
found = {}
for name in sorted(n[:-3] for n in os.listdir(root) if n.startswith("polyfn_entry")):
    handler = importlib.import_module(name).handler
    if name == "polyfn_entry":
        result = handler(sample_event("http-api", path="/hello"), None)
        found[name] = [result["statusCode"], json.loads(result["body"])]
    elif name == "polyfn_entry_tick":
        found[name] = handler(sample_event("scheduler", app="entries", function="tick"), None)
    else:
        found[name] = handler(sample_event("sqs", queue="jobs"), None)
print(json.dumps(found, sort_keys=True))
"""

_GCP = """\
import ast, functions_framework
source = "polyfn_main.py" if os.path.exists("polyfn_main.py") else "main.py"
tree = ast.parse(open(source).read())
found = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and node.targets[0].id.startswith("polyfn_"):
        target = node.targets[0].id
        kind = "cloudevent" if "cloud_event" in ast.unparse(node.value) else "http"
        client = functions_framework.create_app(target, source, kind).test_client()
        if target == "polyfn_http":
            hello = client.get("/hello")
            tick = client.post("/_polyfn/schedule/tick")
            found[target] = [hello.status_code, hello.get_json(), tick.status_code]
        else:
            found[target] = kind
print(json.dumps({"source": source, "targets": found}, sort_keys=True))
"""

_AZURE = """\
import pathlib
script = os.environ.get("PYTHON_SCRIPT_FILE_NAME", "function_app.py")
module = importlib.import_module(pathlib.Path(script).stem)  # as the Python worker does
import azure.functions as func
apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
(fa,) = apps
print(json.dumps(sorted(f.get_function_name() for f in fa.get_functions())))
"""


def _package(tmp_path: Path, form: str, provider: str) -> tuple[Path, str]:
    """Write the app in `form` into a project folder, package it for `provider` as a user would;
    the unzipped package and package's stderr."""
    files, ref = FORMS[form]
    project = tmp_path / "project"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    before = {name: (project / name).read_text() for name in files}
    out = tmp_path / "app.zip"
    deps = [] if provider == "aws" else ["--deps", "remote"]
    done = run_polyfn("package", ref, "--provider", provider, "--out", str(out), *deps, cwd=project)
    assert done.returncode == 0, done.stderr
    # Nothing of the user's was touched, and the zip holds the user's files as they are.
    assert {name: (project / name).read_text() for name in files} == before
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(unzipped)
        for name, text in files.items():
            assert zf.read(name).decode() == text, name
    return unzipped, done.stderr


def _load(root: Path, provider: str, env: dict[str, str] | None = None) -> str:
    libs = [] if provider == "aws" else [sysconfig.get_paths()["purelib"]]
    code = _PRELUDE + {"aws": _AWS, "gcp": _GCP, "azure": _AZURE}[provider]
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(root), *libs],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("form", list(FORMS))
def test_aws_entries_import_and_handle_one_event(tmp_path: Path, form: str) -> None:
    root, _ = _package(tmp_path, form, "aws")
    found = json.loads(_load(root, "aws"))
    assert found == {
        "polyfn_entry": [200, {"message": "hi"}],  # every HTTP route, one Lambda
        "polyfn_entry_tick": None,
        "polyfn_entry_work": {"batchItemFailures": []},
    }


@pytest.mark.parametrize("form", list(FORMS))
def test_gcp_entries_load_in_functions_framework(tmp_path: Path, form: str) -> None:
    root, _ = _package(tmp_path, form, "gcp")
    found = json.loads(_load(root, "gcp"))
    # An app that is main.py keeps it; the entries go to the file GOOGLE_FUNCTION_SOURCE names.
    assert found["source"] == ("polyfn_main.py" if form in HAS_MAIN_PY else "main.py")
    assert found["targets"] == {
        # The public HTTP function serves the routes and nothing else (no scheduler path).
        "polyfn_http": [200, {"message": "hi"}, 404],
        "polyfn_tick": "http",
        "polyfn_work": "cloudevent",
    }


@pytest.mark.parametrize("form", list(FORMS))
def test_azure_entry_indexes_in_the_worker(tmp_path: Path, form: str) -> None:
    root, stderr = _package(tmp_path, form, "azure")
    env = None
    if form in HAS_FUNCTION_APP_PY:
        # The app keeps its name; package says which app setting names the entry.
        assert "PYTHON_SCRIPT_FILE_NAME=polyfn_function_app.py" in stderr
        env = {"PYTHON_SCRIPT_FILE_NAME": "polyfn_function_app.py"}
    assert json.loads(_load(root, "azure", env)) == ["hello", "tick", "work"]


def _build(
    project: Path, app_file: str, provider: str, out: str
) -> subprocess.CompletedProcess[str]:
    return run_polyfn("build", f"./{app_file}", "-p", provider, "--out", out, cwd=project)


@pytest.mark.parametrize(
    ("provider", "app_file", "entry", "generated"),
    [
        ("aws", "svc.py", "polyfn_entry.py", "polyfn_entry.py"),
        ("azure", "function_app.py", "function_app.py", "polyfn_function_app.py"),
        ("gcp", "main.py", "main.py", "polyfn_main.py"),
    ],
)
def test_build_keeps_the_users_files_and_refuses_to_replace_one(
    tmp_path: Path, provider: str, app_file: str, entry: str, generated: str
) -> None:
    app = APP_SOURCE.format(helpers="svc_helpers")
    mine = "# my own module\n"
    # An app named like the cloud's entry file: the entry gets another name and imports it.
    project = tmp_path / "project"
    project.mkdir()
    (project / app_file).write_text(app)
    (project / "svc_helpers.py").write_text(HELPERS)
    done = _build(project, app_file, provider, "out")
    assert done.returncode == 0, done.stderr
    assert (project / app_file).read_text() == app
    module = app_file.removesuffix(".py")
    assert f"from {module} import app as " in (project / "out" / generated).read_text()
    # An output folder that holds a file of the user's with the entry's name: refused, kept.
    other = tmp_path / "other"
    (other / "elsewhere").mkdir(parents=True)
    (other / "svc.py").write_text(app)
    (other / "svc_helpers.py").write_text(HELPERS)
    (other / "elsewhere" / entry).write_text(mine)
    done = _build(other, "svc.py", provider, "elsewhere")
    assert done.returncode == 2, done.stderr
    assert entry in done.stderr and "Traceback" not in done.stderr
    assert (other / "elsewhere" / entry).read_text() == mine
