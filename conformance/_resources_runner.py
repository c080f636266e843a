"""The resource matrix: every neutral case of conformance/resources.py on every backend, beside
the trigger matrix in ``polyfn conformance --resources``.

Local always runs. A cloud runs when its endpoints are in the environment (see `configured`);
otherwise its column says "not configured", which is no failure. A cell that ran over a fake of
the service says so ("pass (fake transport)"), and a case the backend cannot run here names why
("skip: no Service Bus broker ...").
"""

from __future__ import annotations

import fnmatch
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

BACKENDS = ("local", "aws", "azure", "gcp")
NOT_CONFIGURED = "not configured"

# What makes a cloud's column run: any one group, every variable of it set.
_ENDPOINT_SETTINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "aws": (
        ("AWS_ENDPOINT_URL",),
        ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        ("AWS_PROFILE",),
    ),
    "azure": (("AzureWebJobsStorage",),),
    "gcp": (
        ("PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"),
        ("GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS"),
    ),
}

# Cases a backend's emulator cannot judge, with the reason shown in the cell.
# DynamoDB checks a condition and writes atomically
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate);
# moto_server does not: its put_item checks the condition, then writes, with no lock, on a
# threaded server, so two racing conditional writes can both pass there (seen: a counter of 30
# increments ending at 28). The same conditions, one writer at a time, run in
# case_table_conditional_writes.
# gcp-storage-emulator runs with anonymous credentials, which cannot sign a V4 URL (signing
# needs a service account's key: https://cloud.google.com/storage/docs/access-control/signed-urls);
# tests/resources_gcp/test_backend.py signs with a generated key instead.
_NOT_JUDGED_ON_EMULATOR = {
    ("aws", "case_table_concurrent_if_absent"): "moto's conditional writes are not atomic",
    ("aws", "case_table_concurrent_if_version_counter"): "moto's conditional writes are not atomic",
    ("gcp", "case_bucket_signed_url_get"): "the Storage emulator's credentials cannot sign",
    # The Firestore emulator locks documents pessimistically; racing transactions on a loaded
    # machine wait out its lock timeout again and again (minutes per case). The same writes,
    # one at a time, run in case_table_conditional_writes; creators race in
    # case_table_concurrent_if_absent (a create needs no transaction).
    ("gcp", "case_table_concurrent_if_version_counter"): "the Firestore emulator's locks time out",
}
# The setting whose presence means the provider's column runs on a local emulator.
_EMULATOR_SETTING = {"aws": "AWS_ENDPOINT_URL", "gcp": "STORAGE_EMULATOR_HOST"}


def configured(provider: str) -> bool:
    """Whether the environment names `provider`'s endpoints (local: always)."""
    if provider == "local":
        return True
    groups = _ENDPOINT_SETTINGS.get(provider, ())
    return any(all(os.environ.get(name) for name in group) for group in groups)


def not_judged(provider: str, case: str) -> str | None:
    """Why `case` says nothing about `provider`'s backend on the local emulator, or None (on the
    real cloud, with no local endpoint, every case runs)."""
    endpoint = os.environ.get(_EMULATOR_SETTING.get(provider, ""), "")
    on_emulator = "127.0.0.1" in endpoint or "localhost" in endpoint
    return _NOT_JUDGED_ON_EMULATOR.get((provider, case)) if on_emulator else None


@dataclass
class Cell:
    status: str  # pass, fail, skip, not configured
    detail: str = ""
    fake: bool = False
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.status == "pass":
            return "pass (fake transport)" if self.fake else "pass"
        if self.status == "skip":
            return f"skip: {self.detail}"
        if self.status == "fail":
            return "FAIL"
        return self.status


@dataclass
class ResourceReport:
    backends: list[str]
    cases: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    @property
    def failed(self) -> list[tuple[str, str, Cell]]:
        return [(c, b, cell) for (c, b), cell in self.cells.items() if cell.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failed


def _run_case(case: Callable[..., None], make: Callable[[], Any], fake: bool) -> Cell:
    from conformance._spec import Skip

    started = time.monotonic()
    try:
        case(make)
    except Skip as why:
        return Cell("skip", str(why), seconds=time.monotonic() - started)
    except Exception as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return Cell("fail", detail, seconds=time.monotonic() - started)
    return Cell("pass", fake=fake, seconds=time.monotonic() - started)


def run_resources(
    backends: Sequence[str] = BACKENDS, case_glob: str | None = None
) -> ResourceReport:
    """Run the selected cases on every backend; a cloud without endpoints is "not configured"."""
    from conformance.resource_harnesses import FAKE_TRANSPORT_CASES, open_harness
    from conformance.resources import CASES

    cases = [
        c
        for c in CASES
        if case_glob is None
        or any(fnmatch.fnmatchcase(c.__name__, g.strip()) for g in case_glob.split(","))
    ]
    report = ResourceReport(list(backends), [c.__name__ for c in cases])
    for backend in backends:
        if not configured(backend):
            for case in cases:
                report.cells[(case.__name__, backend)] = Cell(NOT_CONFIGURED)
            continue
        fakes = FAKE_TRANSPORT_CASES.get(backend, ())
        for case in cases:
            reason = not_judged(backend, case.__name__)
            if reason:
                report.cells[(case.__name__, backend)] = Cell("skip", reason)
                continue
            with open_harness(backend) as make:
                cell = _run_case(case, make, case.__name__ in fakes)
            report.cells[(case.__name__, backend)] = cell
    return report


def format_resource_matrix(report: ResourceReport) -> str:
    """The case x backend table, then the failures' details."""
    name_width = max([len("resource case")] + [len(c) for c in report.cases])
    texts = {key: str(cell) for key, cell in report.cells.items()}
    widths = {
        b: max([len(b)] + [len(texts[(c, b)]) for c in report.cases]) for b in report.backends
    }
    header = "  ".join(b.ljust(widths[b]) for b in report.backends)
    lines = [("resource case".ljust(name_width) + "  " + header).rstrip()]
    lines.append("-" * len(lines[0]))
    for case in report.cases:
        row = "  ".join(texts[(case, b)].ljust(widths[b]) for b in report.backends)
        lines.append((case.ljust(name_width) + "  " + row).rstrip())
    counts: dict[str, int] = {}
    for cell in report.cells.values():
        counts[cell.status] = counts.get(cell.status, 0) + 1
    lines.append("")
    lines.append(
        "resources: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("pass", "fail", "skip", NOT_CONFIGURED))
    )
    for case, backend, cell in report.failed:
        lines.append(f"FAIL {case} on {backend}: {cell.detail}")
    return "\n".join(lines)


def resource_json(report: ResourceReport) -> list[dict[str, Any]]:
    return [
        {
            "case": case,
            "backend": backend,
            "status": cell.status,
            "detail": cell.detail,
            "fake_transport": cell.fake,
        }
        for (case, backend), cell in report.cells.items()
    ]
