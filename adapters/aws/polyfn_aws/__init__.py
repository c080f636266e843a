"""polyfn on AWS Lambda: ``handler = polyfn_aws.handler(app)``.

One handler serves every trigger of the app; the event says where it came from. What a raise in
a handler does, per source:

| source                                | a raise in the handler          | unreadable event     |
|---------------------------------------|---------------------------------|----------------------|
| API Gateway REST / HTTP API, URL, ALB | 500 with the request id (1)     | EventError: 502 (2)  |
| SQS, standard queue                   | record in batchItemFailures (3) | record listed (4)    |
| SQS, FIFO queue                       | record + rest of its group (5)  | record listed (4)    |
| SNS, S3, EventBridge, Scheduler       | invocation fails, retried (6)   | EventError, same (6) |

1. ``{"error": "internal error", "request_id": ...}``; the traceback goes to the log, never to the
   client.
2. Lambda reports an error; the client gets the gateway's own 502, no detail.
3. SQS redelivers the record after its visibility timeout and dead-letters it after
   ``maxReceiveCount``; the records that succeeded are deleted.
4. Listed like a failed record; if its ``messageId`` is unreadable the whole invocation fails and
   every record of the batch comes back.
5. Every later record of the failed record's message group is listed without running, so the
   group is retried in order; other groups carry on.
6. These sources invoke asynchronously: Lambda retries twice, then hands the event to the
   function's on-failure destination or dead-letter queue (EventBridge Scheduler applies its own
   retry policy first).

A Lambda handler written for one of these sources runs on any cloud through
``from_lambda(lambda_handler, event="rest" | "http" | "sqs" | "sns" | "s3" | "eventbridge")``
(see `_native` and docs/native-handlers.md).

An event for a bucket, queue, topic or schedule that no function is bound to is an `EventError`
that says what arrived and what the app serves. See the modules for each source's details:
`_http` (paths, queries, headers, cookies, bodies), `_queue` (batches, FIFO, attributes),
`_storage` (S3 keys and event kinds), `_timer` (rules and schedules).

Library use without `App` (docs/library.md): `http_request`, `http_response`, `queue_messages`,
`batch_response`, `storage_event` and `timer_event` read native events into the neutral model
inside a Lambda handler of your own, with the code `handler` runs (`_library`).

Resource handles (`Bucket`, `Queue`, `Topic`, `Table`, `Secret`) used on Lambda run on S3, SQS,
SNS, DynamoDB and Secrets Manager through boto3 (``pip install 'polyfn-aws[resources]'``):
see `_resources`.
"""

from __future__ import annotations

from polyfn._lazy import lazy_attributes as _lazy_attributes
from polyfn._provider import register
from polyfn_aws._handler import handler
from polyfn_aws._provider import provider

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from polyfn_aws._build import build
    from polyfn_aws._library import (
        batch_response,
        http_request,
        http_response,
        queue_messages,
        storage_event,
        timer_event,
    )
    from polyfn_aws._names import rule_name, scheduler_input
    from polyfn_aws._native import from_lambda
    from polyfn_aws._samples import sample_event
    from polyfn_aws._schedule import from_eventbridge, to_eventbridge

# Deploy-time tools and the library functions (docs/library.md) load on first use: a Lambda cold
# start imports the handler only.
_LAZY = {
    "batch_response": "polyfn_aws._library",
    "build": "polyfn_aws._build",
    "from_eventbridge": "polyfn_aws._schedule",
    "from_lambda": "polyfn_aws._native",
    "http_request": "polyfn_aws._library",
    "http_response": "polyfn_aws._library",
    "queue_messages": "polyfn_aws._library",
    "rule_name": "polyfn_aws._names",
    "sample_event": "polyfn_aws._samples",
    "scheduler_input": "polyfn_aws._names",
    "storage_event": "polyfn_aws._library",
    "timer_event": "polyfn_aws._library",
    "to_eventbridge": "polyfn_aws._schedule",
}


# The runtime entry registers its provider: a deployed zip carries no entry-point metadata, and a
# resource handle finds its cloud's backend through it.
register(provider)


__getattr__ = _lazy_attributes("polyfn_aws", _LAZY, globals())


__all__ = [
    "batch_response",
    "build",
    "from_eventbridge",
    "from_lambda",
    "handler",
    "http_request",
    "http_response",
    "provider",
    "queue_messages",
    "rule_name",
    "sample_event",
    "scheduler_input",
    "storage_event",
    "timer_event",
    "to_eventbridge",
]
