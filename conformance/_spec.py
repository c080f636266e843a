"""The neutral vocabulary of the suite: cases, what a handler saw, outcomes, and targets.

These types are the suite's own, not polyfn's model: a driver turns a neutral input into native
bytes and back without going through any adapter code, so a bug in an adapter cannot hide itself.

Contract between the pieces (every module under conformance/ follows it):

- A *case* is a frozen value: a name, a trigger ("http", "schedule", "storage", "queue"), the
  neutral input, and what the handler must see and answer. Cases live in
  ``conformance/cases/<trigger>.py`` as a module-level ``CASES: list[...]``.
- A *target* is one way a cloud delivers a trigger (``aws-rest``, ``azure-queue`` ...). Targets live
  in ``conformance/targets/<cloud>_<trigger>.py`` and expose module-level ``TARGETS: list[Target]``.
  ``Target.run(case, app)`` renders the case natively, validates that native input with the
  third-party parser named in DESIGN.md, calls the adapter's public entry point with ``app`` and
  returns an ``Outcome`` read back from the native output. It raises `Skip` for a case the cloud
  cannot deliver (say why), and lets any other exception escape (the runner records it as a fail).
- The *conformance app* (``conformance/app.py``) is one polyfn App used on every target; its
  handlers record what they saw into `Recorder` so a target can return it in its Outcome.
- The runner (``conformance/_runner.py``) owns the recording: it calls ``Recorder.reset()``
  before ``Target.run`` and adds ``Recorder.take()`` to the outcome's ``seen`` after it, so a
  driver never touches `Recorder` (one whose handlers run in another process reports what they
  saw in ``seen`` itself) and every call the handlers made during the run is reported.
  It then compares the ``Outcome`` with the case's expectations and prints the matrix: it calls
  ``case.check(outcome, target)``, which returns a list of mismatches (empty: the case passed).
  Every case has that one ``check`` signature (a check that does not depend on the target
  ignores it).
- A target may have ``close()``: the runner calls it once at the end (a driver that started a local
  server stops it there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from polyfn import App


class Skip(Exception):  # noqa: N818 - a signal
    """The target cannot deliver this case (the message says why: a cloud limit, not a bug)."""


@dataclass(frozen=True)
class Outcome:
    """What came back from one case on one target, in neutral terms.

    For HTTP: `status`, `headers` (lower-cased name -> every value), `cookies` (each Set-Cookie
    value), `body`. For every trigger: `seen`, what the handlers recorded (one dict per handler
    call, in order), and for queues `failed`, the ids of the messages the cloud would redeliver
    (or every id of the batch where the cloud fails the whole invocation), `result` the native
    result for the report. `logs`: what the invocation told the cloud, as its collector reads
    it: each JSON line of polyfn's logger and of stdout (CloudWatch EMF documents), parsed, and
    each record Azure's worker would forward (with ``"azure_record": True``); the runner fills it.
    """

    status: int | None = None
    headers: dict[str, list[str]] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    body: bytes = b""
    seen: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    result: Any = None
    logs: list[dict[str, Any]] = field(default_factory=list)


class Recorder:
    """What the conformance app's handlers saw, for the current case (one process, one case).

    The handlers call `record`; the runner alone calls `reset` and `take` around each run."""

    calls: list[dict[str, Any]] = []

    @classmethod
    def reset(cls) -> None:
        cls.calls = []

    @classmethod
    def record(cls, entry: dict[str, Any]) -> None:
        cls.calls.append(entry)

    @classmethod
    def take(cls) -> list[dict[str, Any]]:
        calls, cls.calls = cls.calls, []
        return calls


class Case(Protocol):
    """What the runner needs of a case; each trigger's case class adds input and expectations."""

    name: str
    trigger: str  # "http" | "schedule" | "storage" | "queue"

    def check(self, outcome: Outcome, target: Target) -> list[str]: ...


class Target(Protocol):
    """One way a cloud delivers one trigger (see the module docstring for the contract)."""

    name: str  # "aws-rest", "azure-queue", "gcp-storage-legacy"
    cloud: str  # "aws" | "azure" | "gcp"
    trigger: str  # "http" | "schedule" | "storage" | "queue"

    def run(self, case: Any, app: App) -> Outcome: ...
