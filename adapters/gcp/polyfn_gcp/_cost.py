"""`bills`: what an app's traffic costs a month on Google Cloud, from dated price tables (Tier 1).

Two plans: Cloud Run functions (Cloud Functions 2nd gen, what polyfn deploys), billed as Cloud Run
services with request-based billing (CPU only during requests) in vCPU-seconds and GiB-seconds;
and Cloud Functions 1st gen, billed in GB-seconds and GHz-seconds, for comparison. With them, what
the triggers imply: Pub/Sub throughput for queue and topic functions (a queue is a topic with one
push subscription), Cloud Storage Class A operations for the uploads that fire storage functions,
and Cloud Scheduler jobs. Eventarc's delivery of Cloud Storage events (a Google source) is free.
Build, Artifact Registry and 2nd gen egress are not priced.
"""

from __future__ import annotations

from decimal import Decimal

from polyfn._app import (
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    SubscribeTrigger,
    assert_never,
)
from polyfn._cost import Bill, Implied, Rate, Usage, charge, total
from polyfn._errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


REGION = "Tier 1 regions (us-central1)"
PRICED_ON = "2026-12-03"  # the day these rates were checked against the pages below

RUN_PAGE = "https://cloud.google.com/run/pricing"
FUNCTIONS_PAGE = "https://cloud.google.com/functions/pricing-1stgen"
PUBSUB_PAGE = "https://cloud.google.com/pubsub/pricing"
STORAGE_PAGE = "https://cloud.google.com/storage/pricing"
SCHEDULER_PAGE = "https://cloud.google.com/scheduler/pricing"

# Cloud Run, CPU allocated only during requests, Tier 1: $0.000024 per vCPU-s, $0.0000025 per
# GiB-s, $0.40 per million requests; free each month: 180,000 vCPU-s, 360,000 GiB-s, 2 million
# requests. Billed in 100 ms steps.
# Cloud Functions 1st gen, Tier 1: $0.40 per million invocations, $0.0000025 per GB-s, $0.0000100
# per GHz-s, $0.12 per GB of egress; free each month: 2 million invocations, 400,000 GB-s, 200,000
# GHz-s, 5 GB of egress. Billed in 100 ms steps; GB means 2^30 bytes.
# Pub/Sub: $40 per TiB of throughput (publish and delivery each count, at least 1,000 bytes per
# message), the first 10 GiB a month free. Cloud Storage Standard: Class A operations $0.005 per
# 1,000 (5,000 a month free in US regions). Cloud Scheduler: $0.10 per job a month, 3 jobs free.
RATES: dict[str, Rate] = {
    "run_requests": Rate("0.40", "requests", per=1_000_000, free=2_000_000, source=RUN_PAGE),
    "run_vcpu_seconds": Rate("0.000024", "vCPU-s", free=180_000, source=RUN_PAGE),
    "run_gib_seconds": Rate("0.0000025", "GiB-s", free=360_000, source=RUN_PAGE),
    "invocations": Rate(
        "0.40", "invocations", per=1_000_000, free=2_000_000, source=FUNCTIONS_PAGE
    ),
    "gb_seconds": Rate("0.0000025", "GB-s", free=400_000, source=FUNCTIONS_PAGE),
    "ghz_seconds": Rate("0.0000100", "GHz-s", free=200_000, source=FUNCTIONS_PAGE),
    "egress": Rate("0.12", "GB", free=5, source=FUNCTIONS_PAGE),
    "pubsub": Rate("40", "TiB", free="0.009765625", source=PUBSUB_PAGE),  # 10 GiB free
    "storage_class_a": Rate(
        "0.005", "Class A operations", per=1_000, free=5_000, source=STORAGE_PAGE
    ),
    "scheduler_jobs": Rate("0.10", "jobs", free=3, source=SCHEDULER_PAGE),
}
STEP_MS = 100
DEFAULT_MEMORY_MB = 256  # gcloud's default for 2nd gen functions
# 2nd gen: the vCPUs a function gets for its memory (the largest size not above it).
# https://cloud.google.com/functions/docs/configuring/memory
VCPU_FOR_MEMORY = (
    (128, "0.083"),
    (256, "0.167"),
    (512, "0.333"),
    (1024, "0.583"),
    (2048, "1"),
    (4096, "2"),
    (8192, "2"),
    (16384, "4"),
    (32768, "8"),
)
# 1st gen: the memory sizes and the CPU clock each comes with.
# https://cloud.google.com/functions/pricing-1stgen
GHZ_FOR_MEMORY = (
    (128, "0.2"),
    (256, "0.4"),
    (512, "0.8"),
    (1024, "1.4"),
    (2048, "2.4"),
    (4096, "4.8"),
    (8192, "4.8"),
)
PUBSUB_MIN_BYTES = 1000
GIB = Decimal(2**30)
TIB = Decimal(2**40)


def bills(
    usage: Sequence[Usage], *, free_tier: bool, rates: Mapping[str, Rate] = RATES
) -> list[Bill]:
    """Cloud Run functions' bill (2nd gen, what polyfn deploys), then 1st gen's."""
    implied = _implied(usage)
    extras = implied.lines(rates, free_tier=free_tier)
    invocations = total(usage, lambda u: u.invocations)
    second = [
        charge("Requests", invocations, rates["run_requests"], free_tier=free_tier),
        charge(
            "CPU",
            total(usage, lambda u: u.seconds(STEP_MS) * _vcpus(u)),
            rates["run_vcpu_seconds"],
            free_tier=free_tier,
        ),
        charge(
            "Memory",
            total(usage, lambda u: u.seconds(STEP_MS) * _memory(u) / 1024),
            rates["run_gib_seconds"],
            free_tier=free_tier,
        ),
    ]
    egress = total(usage, lambda u: u.invocations * u.response_bytes) / GIB
    first = [
        charge("Invocations", invocations, rates["invocations"], free_tier=free_tier),
        charge(
            "Compute (memory)",
            total(usage, lambda u: u.seconds(STEP_MS) * _gen1_memory(u) / 1024),
            rates["gb_seconds"],
            free_tier=free_tier,
        ),
        charge(
            "Compute (CPU)",
            total(usage, lambda u: u.seconds(STEP_MS) * _ghz(u)),
            rates["ghz_seconds"],
            free_tier=free_tier,
        ),
        charge("Networking egress", egress, rates["egress"], free_tier=free_tier),
    ]
    return [
        Bill(
            "gcp",
            "gen2",
            "Cloud Run functions (Cloud Functions 2nd gen, Cloud Run pricing)",
            deployed=True,
            priced_on=PRICED_ON,
            region=REGION,
            lines=second + extras,
            notes=[
                "request-based billing (CPU only during requests), one request per "
                "instance at a time",
                *implied.notes,
            ],
        ),
        Bill(
            "gcp",
            "gen1",
            "Cloud Functions 1st gen",
            deployed=False,
            priced_on=PRICED_ON,
            region=REGION,
            lines=first + extras,
            notes=implied.notes,
        ),
    ]


def _memory(u: Usage) -> int:
    memory = u.memory_mb if u.memory_mb is not None else DEFAULT_MEMORY_MB
    if not VCPU_FOR_MEMORY[0][0] <= memory <= VCPU_FOR_MEMORY[-1][0]:
        raise ConfigError(
            f"function {u.name!r}: memory {memory} MB (the profile's memory_mb, else its "
            f"memory=) is outside Cloud Run functions' "
            f"{VCPU_FOR_MEMORY[0][0]}-{VCPU_FOR_MEMORY[-1][0]} MiB"
        )
    return memory


def _vcpus(u: Usage) -> Decimal:
    memory = _memory(u)
    return Decimal(next(cpu for size, cpu in reversed(VCPU_FOR_MEMORY) if size <= memory))


def _gen1_memory(u: Usage) -> int:
    """The 1st gen memory size that holds the function's memory (its sizes are fixed)."""
    memory = _memory(u)
    return next((size for size, _ in GHZ_FOR_MEMORY if size >= memory), GHZ_FOR_MEMORY[-1][0])


def _ghz(u: Usage) -> Decimal:
    return Decimal(dict(GHZ_FOR_MEMORY)[_gen1_memory(u)])


def _implied(usage: Sequence[Usage]) -> Implied:
    """What the triggers imply on GCP, whatever the generation."""
    implied = Implied()
    for u in usage:
        trigger = u.function.trigger
        # Pub/Sub counts each message at least 1,000 bytes, once when published and once per
        # subscription it is delivered to (a queue is a topic with one push subscription).
        carried = u.messages * max(u.request_bytes, Decimal(PUBSUB_MIN_BYTES)) / TIB
        match trigger:
            case HttpTrigger():
                pass
            case QueueTrigger():
                implied.peak("Pub/Sub throughput", "pubsub", trigger.queue, carried)
                implied.add("Pub/Sub throughput", "pubsub", carried)
            case SubscribeTrigger():
                implied.peak("Pub/Sub throughput", "pubsub", trigger.topic, carried)
                implied.add("Pub/Sub throughput", "pubsub", carried)
            case StorageTrigger():
                uploads = "Cloud Storage Class A operations (uploads)"
                implied.add(uploads, "storage_class_a", u.invocations)
                implied.note(
                    "Eventarc delivers Cloud Storage events (a Google source) at no charge"
                )
            case ScheduleTrigger():
                implied.add("Cloud Scheduler jobs", "scheduler_jobs", Decimal(1))
            case _:
                assert_never(trigger)
    return implied
