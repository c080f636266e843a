"""`bills`: what an app's traffic costs a month on AWS, from dated price tables (US East).

Two plans: Lambda on x86_64 (what polyfn's build deploys) and on arm64 (Graviton), each with
what the app's triggers imply: an API Gateway HTTP API in front of the HTTP functions (the API
polyfn builds), SQS requests for queue functions, SNS publishes for topics, S3 PUT requests for
the objects that fire storage functions. EventBridge schedule rules, SNS deliveries to Lambda and
S3 event notifications cost nothing. Data transfer, CloudWatch Logs and provisioned concurrency
are not priced.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from polyfn._app import (
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    SubscribeTrigger,
    assert_never,
)
from polyfn._cost import Bill, Implied, Rate, Usage, charge, chunks, total
from polyfn._errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


REGION = "us-east-1"
PRICED_ON = "2026-12-03"  # the day these rates were checked against the pages below

LAMBDA_PAGE = "https://aws.amazon.com/lambda/pricing/"
API_GATEWAY_PAGE = "https://aws.amazon.com/api-gateway/pricing/"
SQS_PAGE = "https://aws.amazon.com/sqs/pricing/"
SNS_PAGE = "https://aws.amazon.com/sns/pricing/"
S3_PAGE = "https://aws.amazon.com/s3/pricing/"

# Lambda: requests $0.20 per million; duration per GB-second by architecture (the first tier, up
# to 6 billion GB-s a month); the free tier (1M requests, 400,000 GB-s a month) is shared by both
# architectures. Duration is billed in 1 ms steps; memory 128-10,240 MB, 128 MB by default.
# API Gateway HTTP API: $1.00 per million (first 300 million), each request metered in 512 KB
# steps; its free tier lasts only an account's first 12 months, so none is applied.
# SQS: $0.40 per million standard requests, $0.50 FIFO, the first million a month free; each
# 64 KB of a payload is one request. SNS: $0.50 per million publishes, the first million free,
# 64 KB each; deliveries to Lambda and SQS are free. S3 Standard: $0.005 per 1,000 PUT requests.
RATES: dict[str, Rate] = {
    "requests": Rate("0.20", "requests", per=1_000_000, free=1_000_000, source=LAMBDA_PAGE),
    "x86_64": Rate("0.0000166667", "GB-s", free=400_000, source=LAMBDA_PAGE),
    "arm64": Rate("0.0000133334", "GB-s", free=400_000, source=LAMBDA_PAGE),
    "http_api": Rate("1.00", "requests", per=1_000_000, source=API_GATEWAY_PAGE),
    "sqs": Rate("0.40", "requests", per=1_000_000, free=1_000_000, source=SQS_PAGE),
    "sqs_fifo": Rate("0.50", "requests", per=1_000_000, source=SQS_PAGE),
    "sns": Rate("0.50", "publishes", per=1_000_000, free=1_000_000, source=SNS_PAGE),
    "s3_put": Rate("0.005", "PUT requests", per=1_000, source=S3_PAGE),
}
DURATION_STEP_MS = 1
DEFAULT_MEMORY_MB = 128
MEMORY_MB = (128, 10240)
HTTP_API_METERED_BYTES = 512 * 1024
SQS_CHUNK_BYTES = SNS_CHUNK_BYTES = 64 * 1024
SQS_RECEIVE_MAX = 10  # ReceiveMessage returns at most 10 messages: one request per batch
PLANS = (("x86_64", "AWS Lambda x86_64"), ("arm64", "AWS Lambda arm64 (Graviton)"))


def bills(
    usage: Sequence[Usage], *, free_tier: bool, rates: Mapping[str, Rate] = RATES
) -> list[Bill]:
    """One bill per architecture, x86_64 (what polyfn deploys) first."""
    for u in usage:
        memory = _memory(u)
        if not MEMORY_MB[0] <= memory <= MEMORY_MB[1]:
            raise ConfigError(
                f"function {u.name!r}: memory {memory} MB (the profile's memory_mb, else its "
                f"memory=) is outside Lambda's "
                f"{MEMORY_MB[0]}-{MEMORY_MB[1]} MB"
            )
    implied = _implied(usage)
    extras = implied.lines(rates, free_tier=free_tier)
    out = []
    for arch, title in PLANS:
        gb_seconds = total(usage, lambda u: u.seconds(DURATION_STEP_MS) * _memory(u) / 1024)
        lines = [
            charge(
                "Lambda requests",
                total(usage, lambda u: u.invocations),
                rates["requests"],
                free_tier=free_tier,
            ),
            charge(f"Lambda compute ({arch})", gb_seconds, rates[arch], free_tier=free_tier),
            *extras,
        ]
        out.append(
            Bill(
                "aws",
                arch,
                title + (" + API Gateway HTTP API" if _serves_http(usage) else ""),
                deployed=arch == "x86_64",
                priced_on=PRICED_ON,
                region=REGION,
                lines=lines,
                notes=implied.notes,
            )
        )
    return out


def _serves_http(usage: Sequence[Usage]) -> bool:
    return any(u.function.trigger.label == HttpTrigger.label for u in usage)


def _memory(u: Usage) -> int:
    return u.memory_mb if u.memory_mb is not None else DEFAULT_MEMORY_MB


def _implied(usage: Sequence[Usage]) -> Implied:
    """What the triggers imply on AWS, whatever the architecture."""
    implied = Implied()
    for u in usage:
        trigger = u.function.trigger
        match trigger:
            case HttpTrigger():
                metered = u.invocations * chunks(u.request_bytes, HTTP_API_METERED_BYTES)
                implied.add("API Gateway HTTP API requests", "http_api", metered)
                implied.note(
                    "API Gateway's free tier (first 12 months of an account only) is not applied"
                )
            case QueueTrigger():
                kind = "FIFO" if trigger.fifo else "standard"
                rate = "sqs_fifo" if trigger.fifo else "sqs"
                implied.add(f"SQS {kind} requests", rate, _sqs_requests(u, trigger))
            case SubscribeTrigger():
                published = u.messages * chunks(u.request_bytes, SNS_CHUNK_BYTES)
                implied.peak("SNS publishes", "sns", trigger.topic, published)
            case StorageTrigger():
                implied.add("S3 PUT requests (uploads)", "s3_put", u.invocations)
            case ScheduleTrigger():
                implied.note("EventBridge schedule rules: no charge")
            case _:
                assert_never(trigger)
    return implied


def _sqs_requests(u: Usage, trigger: QueueTrigger) -> Decimal:
    """SendMessage per message, and per batch one ReceiveMessage and one DeleteMessageBatch; each
    64 KB of a message's payload bills as another request."""
    per_message = chunks(u.request_bytes, SQS_CHUNK_BYTES)
    batch = min(trigger.batch_size, SQS_RECEIVE_MAX)
    batches = (u.messages / batch).to_integral_value(rounding=ROUND_CEILING)
    return u.messages * per_message + 2 * batches * per_message
