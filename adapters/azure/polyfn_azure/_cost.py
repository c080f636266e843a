"""`bills`: what an app's traffic costs a month on Azure Functions, from dated price tables.

Two plans: the Consumption plan (Linux, Y1: what polyfn's ARM template deploys) and the Flex
Consumption plan (on demand, no always-ready instances). With them, what the triggers imply:
Storage queue operations for queue functions (Service Bus for ``fifo=True`` queues and for
topics, as polyfn_azure binds them), blob writes for storage functions and Event Grid operations
when a storage function also takes deletes. HTTP functions need no gateway (the Functions host
answers) and timers run in the host. The storage account the host itself needs, Application
Insights and bandwidth are not priced.
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
from polyfn._cost import Bill, Implied, Rate, Usage, charge, chunks, round_up, total

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


REGION = "East US"
PRICED_ON = "2026-12-03"  # the day these rates were checked against the pages below

FUNCTIONS_PAGE = "https://azure.microsoft.com/pricing/details/functions/"
SERVICE_BUS_PAGE = "https://azure.microsoft.com/pricing/details/service-bus/"
EVENT_GRID_PAGE = "https://azure.microsoft.com/pricing/details/event-grid/"
STORAGE_QUEUES_PAGE = "https://azure.microsoft.com/pricing/details/storage/queues/"
BLOB_PAGE = "https://azure.microsoft.com/pricing/details/storage/blobs/"

# Consumption: $0.000016 per GB-s of observed memory (rounded up to 128 MB, at most 1,536 MB) and
# $0.20 per million executions, with a free grant of 400,000 GB-s and 1 million executions a month
# per subscription; an execution bills at least 100 ms, in 1 ms steps.
# Flex Consumption, on demand: $0.000026 per GB-s of the instance memory size (512, 2,048 or
# 4,096 MB) and $0.40 per million executions, free 100,000 GB-s and 250,000 executions a month.
# Service Bus Standard: a base charge of $0.0135 an hour (730 hours a month) with 13 million
# operations included, then $0.80 per million (up to 100 million); each 64 KB is an operation.
# Event Grid: $0.60 per million operations, the first 100,000 a month free.
# Storage queue and blob write operations are counted but not priced here: their price depends on
# the account's kind and redundancy (see the pages).
RATES: dict[str, Rate] = {
    "executions": Rate("0.20", "executions", per=1_000_000, free=1_000_000, source=FUNCTIONS_PAGE),
    "gb_seconds": Rate("0.000016", "GB-s", free=400_000, source=FUNCTIONS_PAGE),
    "flex_executions": Rate(
        "0.40", "executions", per=1_000_000, free=250_000, source=FUNCTIONS_PAGE
    ),
    "flex_gb_seconds": Rate("0.000026", "GB-s", free=100_000, source=FUNCTIONS_PAGE),
    "service_bus_base": Rate("0.0135", "hours", source=SERVICE_BUS_PAGE),
    "service_bus_ops": Rate(
        "0.80",
        "operations",
        per=1_000_000,
        free=13_000_000,
        included=True,  # with the base charge, not a free tier
        source=SERVICE_BUS_PAGE,
    ),
    "event_grid": Rate("0.60", "operations", per=1_000_000, free=100_000, source=EVENT_GRID_PAGE),
    "queue_ops": Rate(None, "operations", source=STORAGE_QUEUES_PAGE),
    "blob_writes": Rate(None, "write operations", source=BLOB_PAGE),
}
HOURS_PER_MONTH = 730
DURATION_STEP_MS = 1
MINIMUM_EXECUTION_MS = 100
MEMORY_STEP_MB = 128
CONSUMPTION_MAX_MB = 1536
FLEX_INSTANCE_MB = (512, 2048, 4096)
FLEX_DEFAULT_MB = 2048
SERVICE_BUS_CHUNK_BYTES = 64 * 1024


def bills(
    usage: Sequence[Usage], *, free_tier: bool, rates: Mapping[str, Rate] = RATES
) -> list[Bill]:
    """The Consumption plan's bill (what polyfn deploys), then Flex Consumption's."""
    implied = _implied(usage)
    extras = implied.lines(rates, free_tier=free_tier)
    out = []
    for plan, (title, executions, gb_seconds, measure, note) in PLANS.items():
        lines = [
            charge(
                "Executions",
                total(usage, lambda u: u.invocations),
                rates[executions],
                free_tier=free_tier,
            ),
            charge("Execution time", total(usage, measure), rates[gb_seconds], free_tier=free_tier),
            *extras,
        ]
        out.append(
            Bill(
                "azure",
                plan,
                title,
                deployed=plan == "consumption",
                priced_on=PRICED_ON,
                region=REGION,
                lines=lines,
                notes=[note, *implied.notes],
            )
        )
    return out


def _consumption_gb_seconds(u: Usage) -> Decimal:
    observed = round_up(Decimal(u.memory_mb or MEMORY_STEP_MB), Decimal(MEMORY_STEP_MB))
    memory = min(observed, Decimal(CONSUMPTION_MAX_MB))
    return u.seconds(DURATION_STEP_MS, MINIMUM_EXECUTION_MS) * memory / 1024


def _flex_gb_seconds(u: Usage) -> Decimal:
    wanted = u.memory_mb or FLEX_DEFAULT_MB
    instance = next((size for size in FLEX_INSTANCE_MB if size >= wanted), FLEX_INSTANCE_MB[-1])
    return u.seconds(DURATION_STEP_MS) * instance / 1024


# plan -> (title, the rates of its executions and execution time, its GB-s measure, its note);
# the plan polyfn's ARM template deploys first.
PLANS: dict[str, tuple[str, str, str, Callable[[Usage], Decimal], str]] = {
    "consumption": (
        "Azure Functions Consumption plan (Linux)",
        "executions",
        "gb_seconds",
        _consumption_gb_seconds,
        "Consumption bills observed memory; the declared (or profile) memory stands in for it, "
        "rounded up to 128 MB",
    ),
    "flex": (
        "Azure Functions Flex Consumption plan (on demand)",
        "flex_executions",
        "flex_gb_seconds",
        _flex_gb_seconds,
        "Flex bills the instance memory size (512, 2,048 or 4,096 MB: the smallest that holds the "
        "function's memory) for each execution, as if one ran per instance",
    ),
}


def _implied(usage: Sequence[Usage]) -> Implied:
    """What the triggers imply on Azure, whatever the plan."""
    implied = Implied()
    for u in usage:
        trigger = u.function.trigger
        size = chunks(u.request_bytes, SERVICE_BUS_CHUNK_BYTES)
        match trigger:
            case HttpTrigger() | ScheduleTrigger():
                pass  # the Functions host answers HTTP and runs timers itself
            case QueueTrigger() if trigger.fifo:
                # Service Bus (sessions): a send, a receive and a complete per message.
                _service_bus(implied)
                implied.add("Service Bus operations", "service_bus_ops", 3 * u.messages * size)
            case QueueTrigger():
                # Put, then per message a Get and a Delete (the host reads in batches, but each
                # message is deleted on its own); polling an empty queue adds more.
                implied.add("Storage queue operations", "queue_ops", 3 * u.messages)
                implied.note(
                    "queue functions use Storage queues (fifo=True and service_bus_queues use "
                    "Service Bus); their operations are counted, not priced"
                )
            case SubscribeTrigger():
                # One send per message to the topic; a receive and a complete per subscription.
                _service_bus(implied)
                sent = u.messages * size
                implied.peak("Service Bus operations", "service_bus_ops", trigger.topic, sent)
                implied.add("Service Bus operations", "service_bus_ops", 2 * u.messages * size)
            case StorageTrigger():
                implied.add("Blob write operations (uploads)", "blob_writes", u.invocations)
                if set(trigger.events) != {"created"}:
                    # A storage function that also takes deletes is bound to Event Grid
                    # (polyfn_azure._app).
                    implied.add("Event Grid operations", "event_grid", u.invocations)
            case _:
                assert_never(trigger)
    return implied


def _service_bus(implied: Implied) -> None:
    """The Standard namespace's base charge, paid once whatever uses it."""
    implied.peak(
        "Service Bus Standard base", "service_bus_base", "namespace", Decimal(HOURS_PER_MONTH)
    )
