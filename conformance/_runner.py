"""The runner: every case on every target of its trigger, compared, printed as a matrix.

Cases come from ``conformance/cases/*.py`` (each module's ``CASES``) or from the user's own
modules; targets from ``conformance/targets/*.py`` (each module's ``TARGETS``). The app is the
conformance app unless the user names theirs (``module:attr``), so a migration team can run its
own handlers through every cloud's driver.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import importlib.metadata
import io
import json
import logging
import pkgutil
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from conformance._spec import Outcome, Recorder, Skip

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from polyfn import App

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


@dataclass
class Result:
    """One case on one target."""

    case: str
    target: str
    trigger: str
    status: str  # PASS | FAIL | SKIP
    reason: str = ""  # why it was skipped, or the first problem
    problems: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    outcome: Outcome | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "target": self.target,
            "trigger": self.trigger,
            "status": self.status,
            "reason": self.reason,
            "problems": self.problems,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class Report:
    results: list[Result]

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == FAIL]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return f"{self.count(PASS)} passed, {self.count(FAIL)} failed, {self.count(SKIP)} skipped"


# -- discovery -------------------------------------------------------------------------------


def _package_modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return sorted(
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    )


# Case modules by their former names, which `--cases` still takes: the schedule cases were once
# called "timer" cases.
_RENAMED_CASE_MODULES = {"conformance.cases.timer": "conformance.cases.schedule"}


def load_cases(modules: Iterable[str] | None = None) -> list[Any]:
    """``CASES`` of each module (``module`` or ``module:attr``); by default conformance.cases.*."""
    names = list(modules) if modules else _package_modules("conformance.cases")
    cases: list[Any] = []
    for name in names:
        module_name, _, attr = name.partition(":")
        module_name = _RENAMED_CASE_MODULES.get(module_name, module_name)
        module = importlib.import_module(module_name)
        found = getattr(module, attr or "CASES", None)
        if not isinstance(found, list | tuple):
            raise ValueError(f"{name} has no list of cases ({attr or 'CASES'})")
        cases.extend(found)
    return cases


# A provider distribution contributes its own targets: a module with ``TARGETS`` registered under
# this entry-point group (``toy = "toy_polyfn_conformance"``), so a fourth cloud's driver joins
# the matrix without an edit here.
TARGETS_ENTRY_POINT_GROUP = "polyfn.conformance"


def load_targets(modules: Iterable[str] | None = None) -> list[Any]:
    """``TARGETS`` of conformance/targets/*.py and of every module registered in the
    ``polyfn.conformance`` entry-point group (or of the given modules)."""
    if modules:
        names = list(modules)
    else:
        found = importlib.metadata.entry_points(group=TARGETS_ENTRY_POINT_GROUP)
        names = _package_modules("conformance.targets") + sorted(ep.value for ep in found)
    targets: list[Any] = []
    for name in names:
        targets.extend(getattr(importlib.import_module(name), "TARGETS", []))
    return targets


def select(items: Sequence[Any], pattern: str | None) -> list[Any]:
    """Items whose name matches a glob (several globs separated by commas)."""
    if not pattern:
        return list(items)
    globs = [g.strip() for g in pattern.split(",") if g.strip()]
    return [item for item in items if any(fnmatch.fnmatchcase(item.name, g) for g in globs)]


def _by_trigger(items: Iterable[Any]) -> str:
    """Names grouped by trigger: "http: get, post-json; queue: json-1"."""
    groups: dict[str, list[str]] = {}
    for item in items:
        groups.setdefault(item.trigger, []).append(item.name)
    return "; ".join(f"{trigger}: {', '.join(names)}" for trigger, names in groups.items())


def nothing_to_run(
    every_case: Sequence[Any],
    every_target: Sequence[Any],
    cases: Sequence[Any],
    targets: Sequence[Any],
    case_glob: str | None,
    target_glob: str | None,
) -> str:
    """Why the selection is empty, with the names that exist, so the user can fix the glob.

    `cases` and `targets` are what the globs selected (targets before pairing by trigger)."""
    if not every_case:
        return "the case modules define no cases (their CASES lists are empty)."
    if not every_target:
        return "no conformance targets are installed (conformance/targets/*.py define none)."
    problems = []
    if not targets:
        problems.append(
            f"--target {target_glob!r} matches no target; the targets are "
            f"{_by_trigger(every_target)}."
        )
    if not cases:
        problems.append(
            f"--case {case_glob!r} matches no case; the cases are {_by_trigger(every_case)}."
        )
    if problems:
        return " ".join([*problems, "A glob may list several patterns: 'aws-*,gcp-http'."])
    # Both globs matched, but no selected target serves a trigger of the selected cases.
    wanted = sorted({c.trigger for c in cases})
    fitting = [t for t in every_target if t.trigger in wanted]
    return (
        f"the targets --target {target_glob!r} selects ({_by_trigger(targets)}) run none of "
        f"the selected cases, which are {' and '.join(wanted)} cases; "
        + (
            f"the targets for those are {_by_trigger(fitting)}."
            if fitting
            else "no target runs that trigger."
        )
    )


# -- running ---------------------------------------------------------------------------------


# The logger whose records Azure's worker forwards to the host (polyfn's Azure records).
AZURE_LOGGER = "polyfn_azure.invocations"
# What an Azure record carries beside its custom dimensions, as the worker forwards it.
_AZURE_RECORD_FIELDS = ("status", "method", "path", "trigger", "outcome", "acknowledged", "failed",
                        "duration_ms", "metric")  # fmt: skip


class _Capture(logging.Handler):
    """Keeps the log lines of the case being run, to show beside a failure, and `entries`, each
    as the cloud's collector reads it (`Outcome.logs`)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.entries: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            line += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.lines.append(f"{record.levelname} {record.name}: {line}")
        if record.name == "polyfn" and self.formatter is not None:
            # The line polyfn's own handler would have written (the runner took its place).
            self.entries.append(json.loads(self.formatter.format(record)))
        elif record.name == AZURE_LOGGER:
            entry: dict[str, Any] = {
                "azure_record": True,
                "level": record.levelname,
                "message": record.getMessage(),
                **getattr(record, "custom_dimensions", {}),
            }
            for key in _AZURE_RECORD_FIELDS:
                if hasattr(record, key):
                    entry[key] = getattr(record, key)
            self.entries.append(entry)


def _polyfn_formatter() -> logging.Formatter | None:
    """The formatter of the ``polyfn`` logger's own handler, which writes each cloud's shape (a
    Context's first log use sets the logger up)."""
    from polyfn import Context

    Context("local", "conformance", "-").log  # noqa: B018 - sets the polyfn logger up
    for handler in logging.getLogger("polyfn").handlers:
        if handler.formatter is not None:
            return handler.formatter
    return None


def _stdout_entries(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines a run wrote to stdout (CloudWatch EMF documents)."""
    entries = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            entries.append(value)
    return entries


def _mute_flask() -> tuple[logging.Handler, int] | None:
    """Silence Flask's default stderr handler for one case (if Flask is loaded at all)."""
    import sys

    flask_logging = sys.modules.get("flask.logging")
    handler = getattr(flask_logging, "default_handler", None)
    if not isinstance(handler, logging.Handler):
        return None
    level = handler.level
    handler.setLevel(logging.CRITICAL + 1)
    return handler, level


def run_one(case: Any, target: Any, app: App) -> Result:
    """Run `case` on `target`; a raise is a failure, `Skip` a skip, mismatches a failure."""
    capture = _Capture()
    capture.setFormatter(_polyfn_formatter())
    logger = logging.getLogger("polyfn")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers, logger.propagate = [capture], False
    logger.setLevel(logging.INFO)
    # Other libraries' logs (Flask logs a view's exception through its own stderr handler) are
    # kept beside the result too, instead of interleaving with the matrix.
    root = logging.getLogger()
    root.addHandler(capture)
    muted = _mute_flask()
    start = time.perf_counter()
    result = Result(case.name, target.name, case.trigger, PASS)
    # The runner owns the recording (drivers never touch `Recorder`): what the handlers recorded
    # in this process during this run is added to the `seen` the driver reported (a driver whose
    # handler ran in another process, gcp-http over the wire, reports it from the answer).
    Recorder.reset()
    stdout = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout):
            outcome = target.run(case, app)
        outcome = replace(
            outcome,
            seen=[*outcome.seen, *Recorder.take()],
            logs=[*outcome.logs, *capture.entries, *_stdout_entries(stdout.getvalue())],
        )
    except Skip as exc:
        result.status, result.reason = SKIP, str(exc) or "not deliverable on this target"
    except Exception as exc:
        result.status = FAIL
        result.reason = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exception(exc)
        result.problems = [result.reason, "".join(tb[-6:]).rstrip()]
    else:
        result.outcome = outcome
        try:
            result.problems = list(case.check(outcome, target))
        except Exception as exc:
            result.problems = [f"check raised {type(exc).__name__}: {exc}"]
        if result.problems:
            result.status, result.reason = FAIL, result.problems[0]
    finally:
        result.seconds = time.perf_counter() - start
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
        root.removeHandler(capture)
        if muted is not None:
            muted[0].setLevel(muted[1])
    result.logs = capture.lines
    return result


def _same_everywhere(case: Any, results: list[Result]) -> None:
    """For a case that asks for it: every target must answer as the first one that ran did."""
    if not getattr(case, "same_everywhere", False) or not hasattr(case, "same"):
        return
    ran = [r for r in results if r.outcome is not None]
    if len(ran) < 2:
        return
    first = ran[0]
    for other in ran[1:]:
        assert first.outcome is not None and other.outcome is not None
        problems = [f"{p} ({first.target})" for p in case.same(first.outcome, other.outcome)]
        if problems:
            other.problems.extend(problems)
            if other.status == PASS:
                other.status, other.reason = FAIL, problems[0]


def run(
    app: App,
    cases: Sequence[Any],
    targets: Sequence[Any],
    *,
    progress: Any = None,
    skips: dict[str, str] | None = None,
) -> Report:
    """Every case on every target of its trigger; targets are closed at the end. A case named
    in `skips` is skipped on every target, with that reason (what an app flavour's framework
    does otherwise)."""
    results: list[Result] = []
    try:
        for case in cases:
            row = []
            for target in targets:
                if target.trigger != case.trigger:
                    continue
                if skips and case.name in skips:
                    result = Result(case.name, target.name, case.trigger, SKIP, skips[case.name])
                else:
                    result = run_one(case, target, app)
                row.append(result)
                if progress is not None:
                    progress(result)
            _same_everywhere(case, row)
            results.extend(row)
    finally:
        for target in targets:
            close = getattr(target, "close", None)
            if close is not None:
                close()
    return Report(results)


# -- the report ------------------------------------------------------------------------------


def format_matrix(report: Report) -> str:
    """The case x target matrix, one table per trigger, skip reasons as numbered notes."""
    out: list[str] = []
    notes: dict[str, int] = {}
    triggers = list(dict.fromkeys(r.trigger for r in report.results))
    for trigger in triggers:
        rows = [r for r in report.results if r.trigger == trigger]
        targets = list(dict.fromkeys(r.target for r in rows))
        cases = list(dict.fromkeys(r.case for r in rows))
        cell: dict[tuple[str, str], str] = {}
        for r in rows:
            text = r.status
            if r.status == SKIP:
                n = notes.setdefault(r.reason, len(notes) + 1)
                text = f"SKIP({n})"
            cell[(r.case, r.target)] = text
        first = max([len(trigger), *map(len, cases)])
        widths = [max(len(t), 8) for t in targets]
        columns = list(zip(targets, widths, strict=True))
        out.append("  ".join([trigger.ljust(first), *(t.ljust(w) for t, w in columns)]))
        out.append("  ".join(["-" * first, *("-" * w for w in widths)]))
        for case in cases:
            cells = [cell.get((case, t), "-").ljust(w) for t, w in columns]
            out.append("  ".join([case.ljust(first), *cells]).rstrip())
        out.append("")
    if notes:
        out.append("Skipped, because the cloud cannot deliver it:")
        out.extend(f"  ({n}) {reason}" for reason, n in notes.items())
        out.append("")
    if report.failed:
        out.append("Failures:")
        for r in report.failed:
            out.append(f"  {r.case} on {r.target}:")
            out.extend(f"    - {line}" for p in r.problems for line in p.splitlines())
            if r.logs:
                out.append("    log:")
                out.extend(f"      {line}" for line in r.logs[-5:])
        out.append("")
    out.append(report.summary())
    return "\n".join(out)


def format_json(report: Report) -> str:
    return json.dumps(
        {
            "summary": {
                "passed": report.count(PASS),
                "failed": report.count(FAIL),
                "skipped": report.count(SKIP),
            },
            "results": [r.as_dict() for r in report.results],
        },
        indent=2,
    )


def main(
    *,
    app_ref: str | None = None,
    case_modules: Sequence[str] | None = None,
    target_glob: str | None = None,
    case_glob: str | None = None,
    as_json: bool = False,
    out: Any = None,
    load: Any = None,
    flavours: Sequence[str] | None = None,
) -> int:
    """Load, run and print; 0 when nothing failed, 1 otherwise. Globs that leave no case x
    target pair raise `UsageError` (exit status 2 on the command line) naming what exists.

    `load` turns `app_ref` into the App (the CLI passes polyfn's own APP loader, which also
    takes a path to a .py file); by default ``module:attr``.

    `flavours` (conformance/_flavours.py: native, fastapi, flask) runs the built-in cases on
    each flavour of the conformance app in turn, one matrix each; a web flavour runs the HTTP
    cases only.
    """
    import sys

    from conformance._apps import DEFAULT_APP, load_app

    out = out or sys.stdout
    if flavours:
        return _main_flavours(flavours, case_modules, target_glob, case_glob, as_json, out)
    if app_ref is not None and app_ref != DEFAULT_APP and not case_modules:
        from polyfn._cli_errors import UsageError

        # The built-in cases call the conformance app's routes (/echo, /respond, ...): on any
        # other app every one of them fails, which says nothing about that app.
        raise UsageError(
            f"--app {app_ref!r} needs --cases MODULE: the built-in cases are written for the "
            f"conformance app ({DEFAULT_APP}) and call its routes (/echo, /respond, ...), so on "
            "your app they would all fail. Write a module with CASES = [conformance.HttpCase("
            "...), ...] for your routes and pass it as --cases, or leave out --app to run the "
            "built-in cases on the conformance app."
        )
    app = (load or load_app)(app_ref or DEFAULT_APP)
    every_case = load_cases(case_modules)
    every_target = load_targets()
    cases = select(every_case, case_glob)
    selected = select(every_target, target_glob)
    triggers = {c.trigger for c in cases}
    targets = [t for t in selected if t.trigger in triggers]
    if not cases or not targets:
        from polyfn._cli_errors import UsageError

        raise UsageError(
            nothing_to_run(every_case, every_target, cases, selected, case_glob, target_glob)
        )
    report = run(app, cases, targets)
    print(format_json(report) if as_json else format_matrix(report), file=out)
    return 0 if report.ok else 1


def _main_flavours(
    names: Sequence[str],
    case_modules: Sequence[str] | None,
    target_glob: str | None,
    case_glob: str | None,
    as_json: bool,
    out: Any,
) -> int:
    from conformance._apps import load_app
    from conformance._flavours import FLAVOURS, framework_cases, skips_of
    from polyfn._cli_errors import UsageError

    unknown = [n for n in names if n not in FLAVOURS]
    if unknown:
        raise UsageError(
            f"--app-flavour {', '.join(unknown)}: the flavours are {', '.join(FLAVOURS)}"
        )
    every_case = load_cases(case_modules)
    every_target = load_targets()
    status = 0
    documents = []
    for name in names:
        flavour = FLAVOURS[name]
        for module in flavour.needs:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                raise UsageError(
                    f"--app-flavour {name} needs {module}: pip install {module}"
                ) from exc
        app = load_app(flavour.app_ref)
        pool = every_case if name == "native" else framework_cases(every_case)
        cases = select(pool, case_glob)
        selected = select(every_target, target_glob)
        targets = [t for t in selected if t.trigger in {c.trigger for c in cases}]
        if not cases or not targets:
            raise UsageError(
                nothing_to_run(pool, every_target, cases, selected, case_glob, target_glob)
            )
        report = run(app, cases, targets, skips=skips_of(flavour))
        status = max(status, 0 if report.ok else 1)
        if as_json:
            documents.append({"flavour": name, **json.loads(format_json(report))})
        else:
            print(f"== app flavour {name}: {flavour.description}", file=out)
            print(format_matrix(report), file=out)
            print(file=out)
    if as_json:
        print(json.dumps(documents, indent=2), file=out)
    return status
