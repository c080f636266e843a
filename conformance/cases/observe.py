"""Observability cases (issue 10): what an invocation tells the cloud, read from what its log
collector gets (`Outcome.logs`: polyfn's lines, stdout's EMF documents, Azure's records).

One case per trigger family: an HTTP request with a W3C ``traceparent`` header, a queue message
and a topic message with a ``traceparent`` attribute (as polyfn's own `Queue.send` and
`Topic.publish` write it). Each asks its handler to log a line and count a datapoint
(`conformance.app.METRIC_HEADER`, `conformance.app_events.METRIC_ATTRIBUTE`). Every target must
then show, in its cloud's native shape (the field names are the clouds' own, cited below, not
read from polyfn):

- every line of the invocation carries the caller's trace id (the trace continues);
- one closing line, ``"invocation finished"``, with ``duration_ms`` and the outcome: ``status``
  for HTTP; ``outcome``, or on an SQS batch ``acknowledged`` and ``failed``, for messages;
- the datapoint, as a CloudWatch Embedded Metric Format document on AWS and as a line (a record
  on Azure) with ``metric.name`` elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from conformance._httpcase import HttpCase
from conformance.app import METRIC_HEADER
from conformance.app_events import METRIC_ATTRIBUTE
from conformance.cases.queue import CASES as QUEUE_CASES
from conformance.cases.queue import QueueCase
from conformance.cases.subscribe import SubscribeCase

if TYPE_CHECKING:
    from conformance._spec import Outcome

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
METRIC = "conformance_observed"
CLOSING = "invocation finished"

# The fields each cloud's log tooling reads, by target family.
# AWS, Lambda's JSON log format (and X-Ray's trace id as Powertools names it):
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
# GCP, Cloud Logging's special fields:
# https://cloud.google.com/logging/docs/structured-logging#special-payload-fields
# Azure: the record the worker forwards, with the invocation's custom dimensions.
# Any other target (a provider distribution's own, `polyfn serve`): polyfn's plain JSON lines.
SHAPE_KEYS = {
    "local": ("time", "level", "message", "invocation_id", "trace_id"),
    "aws": ("timestamp", "level", "message", "requestId", "xray_trace_id"),
    "gcp": (
        "severity",
        "message",
        "logging.googleapis.com/trace",
        "logging.googleapis.com/spanId",
        "logging.googleapis.com/labels",
    ),
    "azure": ("level", "message", "invocation_id", "trace_id"),
}


def _family(target: Any) -> str:
    family = str(getattr(target, "name", "")).split("-", 1)[0]
    return family if family in SHAPE_KEYS else "local"


def _trace_of(line: dict[str, Any], family: str) -> str | None:
    """The 32-hex trace id a line names, as its cloud writes it."""
    if family == "aws":
        xray = line.get("xray_trace_id")
        return xray[2:10] + xray[11:] if isinstance(xray, str) and len(xray) == 35 else None
    if family == "gcp":
        trace = line.get("logging.googleapis.com/trace")
        return trace.rsplit("/", 1)[-1] if isinstance(trace, str) else None
    return line.get("trace_id")


def _is_emf(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("_aws"), dict)


def _emf_names(entry: dict[str, Any]) -> set[str]:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
    names: set[str] = set()
    for directive in entry["_aws"].get("CloudWatchMetrics", []):
        names.update(metric.get("Name") for metric in directive.get("Metrics", []))
    return names


def observed_problems(outcome: Outcome, target: Any, *, closing: tuple[str, ...]) -> list[str]:
    """What the invocation's logs lack: the native shape, the caller's trace on every line, one
    closing line per invocation with `closing` fields, the datapoint."""
    family = _family(target)
    keys = SHAPE_KEYS[family]
    lines = [entry for entry in outcome.logs if not _is_emf(entry)]
    problems: list[str] = []
    if not lines:
        return ["the invocation wrote no log line"]
    for line in lines:
        missing = [key for key in keys if key not in line]
        if missing:
            problems.append(f"line {line.get('message')!r} lacks {missing}")
        if _trace_of(line, family) != TRACE_ID:
            problems.append(f"line {line.get('message')!r} is not in the caller's trace: {line}")
    finished = [line for line in lines if line.get("message") == CLOSING]
    if not finished:
        problems.append("no closing line")
    for line in finished:
        duration = line.get("duration_ms")
        if not isinstance(duration, int | float) or duration < 0:
            problems.append(f"closing line without a duration: {line}")
        if not any(key in line for key in closing):
            problems.append(f"closing line without any of {closing}: {line}")
    if family == "aws":
        if not any(METRIC in _emf_names(entry) for entry in outcome.logs if _is_emf(entry)):
            problems.append(f"no EMF document with metric {METRIC!r} on stdout")
    elif not any((line.get("metric") or {}).get("name") == METRIC for line in lines):
        problems.append(f"no line with metric {METRIC!r}")
    return problems


@dataclass(frozen=True)
class ObservedHttpCase(HttpCase):
    """An HTTP case whose logs are checked too."""

    def check(self, outcome: Outcome, target: Any = None) -> list[str]:
        problems = list(super().check(outcome, target))
        return problems + observed_problems(outcome, target, closing=("status",))


@dataclass(frozen=True)
class ObservedQueueCase(QueueCase):
    """A queue case whose logs are checked too."""

    def check(self, outcome: Outcome, target: Any = None) -> list[str]:
        problems = list(super().check(outcome, target))
        return problems + observed_problems(outcome, target, closing=("outcome", "acknowledged"))


@dataclass(frozen=True)
class ObservedSubscribeCase(SubscribeCase):
    """A subscription case whose logs are checked too."""

    def check(self, outcome: Outcome, target: Any = None) -> list[str]:
        problems = list(super().check(outcome, target))
        return problems + observed_problems(outcome, target, closing=("outcome", "acknowledged"))


_TRACED = ((METRIC_ATTRIBUTE, METRIC), ("traceparent", TRACEPARENT))
_BASE_MESSAGE = next(case for case in QUEUE_CASES if case.name == "json-1").messages[0]
_MESSAGE = replace(_BASE_MESSAGE, attributes=_TRACED)

CASES: list[Any] = [
    ObservedHttpCase(
        "observe-http",
        "GET",
        "/echo",
        headers=(("traceparent", TRACEPARENT), (METRIC_HEADER, METRIC)),
        seen={"method": "GET", "path": "/echo"},
        calls=1,
        # The conformance app's handlers log and count when asked; a web-framework flavour's
        # views do not (polyfn's own lines are the same for them, its app's are not).
        feature="observability",
    ),
    ObservedQueueCase("observe-queue", (_MESSAGE,)),
    ObservedSubscribeCase("observe-topic", (_MESSAGE,)),
]
