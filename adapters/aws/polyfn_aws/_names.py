"""Names of the AWS resources a polyfn app deploys, shared by the builder and the dispatcher.

The builder names an EventBridge rule or an EventBridge Scheduler schedule with these functions;
the handler reads the same name back from the event to find the function that should run.
"""

from __future__ import annotations

import re

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from polyfn._app import App, Function

# EventBridge rule names: 1-64 characters of [.\-_A-Za-z0-9].
# https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html#API_PutRule_RequestSyntax
RULE_NAME_MAX = 64
_RULE_NAME_BAD = re.compile(r"[^.\-_A-Za-z0-9]")

# Context attributes that EventBridge Scheduler substitutes into a target's Input.
# https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
SCHEDULER_TIME = "<aws.scheduler.scheduled-time>"


def rule_name(app: App, fn: Function) -> str:
    """The EventBridge rule that fires schedule function `fn`: ``{app}-{function}``.

    Characters EventBridge refuses become ``-``; a name over 64 characters keeps its start and
    ends with a hash of the whole, so two long names never collide.
    """
    name = _RULE_NAME_BAD.sub("-", f"{app.name}-{fn.name}")
    if len(name) > RULE_NAME_MAX:
        import hashlib

        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: RULE_NAME_MAX - 9]}-{digest}"
    return name


def scheduler_input(app: App, fn: Function) -> dict[str, Any]:
    """The Input an EventBridge Scheduler schedule sends to the Lambda, so dispatch knows `fn`."""
    return {"polyfn": {"app": app.name, "function": fn.name}, "time": SCHEDULER_TIME}
