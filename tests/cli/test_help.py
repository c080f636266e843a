"""`--help` on every command says what it does and shows an example; `events` lists triggers."""

from __future__ import annotations

import argparse

import pytest

from polyfn._cli import build_parser, main


def _commands() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


def test_the_local_commands_are_registered() -> None:
    assert {"serve", "tick", "send", "messages", "events", "invoke"} <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: polyfn {command}" in out
    assert "example" in out.lower()
    assert f"polyfn {command}" in out.split("example", 1)[1]


def test_top_level_help_and_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "send", "events", "invoke"):
        assert command in out
    assert main([]) == 2


def test_events_lists_each_clouds_triggers_and_their_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["events", "azure"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["http", "timer", "blob", "eventgrid-blob", "queue", "servicebus"]
    assert main(["events", "gcp", "pubsub", "--set", "help"]) == 0
    out = capsys.readouterr().out
    assert "queue: queue or topic name (default 'orders')" in out
    assert "attr.NAME:" in out


def test_import_polyfn_loads_neither_the_cli_nor_the_local_runtime() -> None:
    import subprocess
    import sys

    code = (
        "import sys, polyfn\n"
        "print(sorted(m for m in sys.modules if m.startswith(('polyfn._cli', 'polyfn._local',"
        " 'polyfn.testing', 'argparse', 'sqlite3', 'http.server'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
