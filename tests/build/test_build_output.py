"""`polyfn build` owns its --out folder: a rebuild removes what the earlier build wrote and this
one does not, reports each file truthfully, and a folder polyfn did not write is refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from polyfn._cli import main

APP = """
from polyfn import App
app = App("shop")

@app.http("/orders", methods=["GET"])
def list_orders(req, ctx):
    return {"orders": []}
"""
# A function deployed on its own (HTTP routes share one deployed function): its entry or spec
# is a file of its own on AWS and GCP.
SECOND = """
@app.queue("deletions")
def delete_order(msg, ctx):
    return None
"""


def _build(src: Path, out: Path, provider: str) -> int:
    sys.modules.pop(src.stem, None)  # load the app afresh from its edited file
    argv = ["build", str(src), "--provider", provider, "--out", str(out)]
    return main([*argv, "--project", "demo"] if provider == "gcp" else argv)


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def _lines(text: str, verb: str) -> set[str]:
    return {line.split(" ", 1)[1] for line in text.splitlines() if line.startswith(f"{verb} ")}


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_rebuild_removes_what_the_earlier_build_wrote_and_reports_truthfully(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], provider: str
) -> None:
    src = tmp_path / "shop_api.py"
    src.write_text(APP + SECOND)
    out = tmp_path / "out"
    assert _build(src, out, provider) == 0
    first = _files(out)
    assert any("delete_order" in f or "delete-order" in f for f in first) or provider == "azure"
    assert _lines(capsys.readouterr().out, "wrote") == {str(out / f) for f in first} - {
        str(out / ".polyfn-build.json")
    }

    # The same app again: nothing changed, and nothing is called updated.
    assert _build(src, out, provider) == 0
    again = capsys.readouterr().out
    assert not _lines(again, "updated") and not _lines(again, "wrote")
    assert _files(out) == first

    # One function deleted: whatever only it had is removed, and said so.
    src.write_text(APP)
    assert _build(src, out, provider) == 0
    stdout = capsys.readouterr().out
    now = _files(out)
    assert not any("delete_order" in f or "delete-order" in f for f in now)
    removed = _lines(stdout, "removed")
    assert removed == {str(out / f) for f in first - now}
    assert removed or provider == "azure"  # Azure: one function_app.py for every function
    # The template / the specs and main.py changed; Azure's function_app.py wraps the whole app.
    assert _lines(stdout, "updated") or provider == "azure"
    manifest = json.loads((out / ".polyfn-build.json").read_text())
    assert set(manifest["files"]) == now - {".polyfn-build.json"}
    assert not [p for p in out.rglob("*") if p.is_dir() and not any(p.iterdir())]


def test_a_folder_polyfn_did_not_write_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "shop_api.py"
    src.write_text(APP)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert _build(src, out, "aws") == 2
    err = " ".join(capsys.readouterr().err.split())  # the paragraph is wrapped to the terminal
    assert "holds files polyfn build did not write (notes.txt)" in err
    assert _files(out) == {"notes.txt"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".polyfn-build")] == []


def test_user_files_in_a_built_folder_are_kept_and_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "shop_api.py"
    src.write_text(APP + SECOND)
    out = tmp_path / "out"
    assert _build(src, out, "aws") == 0
    (out / "README.md").write_text("my notes")
    entry = next(f for f in _files(out) if "delete_order" in f)
    src.write_text(APP)
    assert _build(src, out, "aws") == 0
    assert (out / "README.md").read_text() == "my notes"
    assert entry not in _files(out)

    # A file the user put where the next build writes: refused, and left as it was.
    (out / entry).write_text("mine")
    src.write_text(APP + SECOND)
    capsys.readouterr()
    assert _build(src, out, "aws") == 2
    assert "which polyfn build did not write and would overwrite" in capsys.readouterr().err
    assert (out / entry).read_text() == "mine"


def test_a_failed_build_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    src = tmp_path / "shop_api.py"
    src.write_text(APP)
    out = tmp_path / "out"
    assert _build(src, out, "aws") == 0
    before = {f: (out / f).read_bytes() for f in _files(out)}
    # A memory Lambda cannot give: the builder refuses the app after it was loaded.
    src.write_text(APP.replace('methods=["GET"]', 'methods=["GET"], memory=99999'))
    assert _build(src, out, "aws") == 2
    assert {f: (out / f).read_bytes() for f in _files(out)} == before
