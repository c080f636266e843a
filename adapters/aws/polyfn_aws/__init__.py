"""polyfn on AWS Lambda: ``handler = polyfn_aws.handler(app)``.

One handler serves every trigger of the app; the event says where it came from. What a raise in
a handler does, per source:

- API Gateway REST / HTTP API, function URL, ALB (synchronous): a raise is answered 500
  ``{"error": "internal error", "request_id": ...}``; the traceback goes to the log, never to the
  client. An event polyfn cannot read is an `EventError`: Lambda reports an error and the client
  gets the gateway's own 502.
- SQS, standard queue (batches from the queue poller): the record is listed in
  ``batchItemFailures``; SQS redelivers it after the visibility timeout and dead-letters it after
  ``maxReceiveCount``. An unreadable record is listed the same way; if its ``messageId`` is
  unreadable, the whole invocation fails and every record comes back.
- SQS, FIFO queue: the record and every later record of its message group (not run) are listed.
- SNS, S3 notifications, EventBridge (schedules, S3 events), EventBridge Scheduler (asynchronous):
  the invocation fails; Lambda retries it twice, then hands it to the function's on-failure
  destination or dead-letter queue (Scheduler applies its own retry policy too). An unreadable
  event is an `EventError` and goes the same way.

An event for a bucket, queue, topic or schedule that no function is bound to is an `EventError`
that says what arrived and what the app serves. See the modules for each source's details:
`_http` (paths, queries, headers, cookies, bodies), `_queue` (batches, FIFO, attributes),
`_storage` (S3 keys and event kinds), `_timer` (rules and schedules).
"""

from typing import TYPE_CHECKING, Any

from polyfn_aws._handler import handler

if TYPE_CHECKING:
    from polyfn_aws._build import build
    from polyfn_aws._names import rule_name, scheduler_input
    from polyfn_aws._samples import sample_event
    from polyfn_aws._schedule import from_eventbridge, to_eventbridge

# Deploy-time tools load on first use: a Lambda cold start imports the handler only.
_LAZY = {
    "build": "polyfn_aws._build",
    "from_eventbridge": "polyfn_aws._schedule",
    "rule_name": "polyfn_aws._names",
    "sample_event": "polyfn_aws._samples",
    "scheduler_input": "polyfn_aws._names",
    "to_eventbridge": "polyfn_aws._schedule",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'polyfn_aws' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "build",
    "from_eventbridge",
    "handler",
    "rule_name",
    "sample_event",
    "scheduler_input",
    "to_eventbridge",
]
