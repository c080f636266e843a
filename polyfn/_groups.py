"""How an app's HTTP functions are deployed: one cloud function for all of them by default.

A client calls "the API" at one address, so every HTTP route of an app goes to one deployed
function (one Lambda behind the HTTP API's default route, one Cloud Function with one URL; Azure
is one function app anyway). A route leaves that shared function only when it has to:

- its deployment settings differ (memory, effective timeout, env): one deployed function has one
  of each, so routes that declare the same values share a function of their own;
- it declares `max_concurrency`: the limit is that route's own, not shared with others;
- it asks to, with ``standalone=True``.

Schedule, storage and queue functions are deployed one each, as before: each has its own trigger.
The builders (polyfn_aws._build, polyfn_gcp._build) map each group to their cloud.
"""

from __future__ import annotations

from polyfn._app import HttpTrigger
from polyfn._errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from polyfn._app import App, Function

# The name of the group that serves the app's HTTP routes by default (<app>-http on each cloud).
SHARED_GROUP = "http"


class HttpGroup:
    """HTTP functions deployed as one cloud function: `name` names the deployed function (the
    shared group is ``http``, any other group is named after its first function), `shared` is
    True for the app's default group, which also answers paths that no route matches."""

    __slots__ = ("functions", "name", "shared")

    def __init__(self, name: str, functions: list[Function], *, shared: bool) -> None:
        self.name = name
        self.functions = functions
        self.shared = shared

    @property
    def first(self) -> Function:
        return self.functions[0]

    def __repr__(self) -> str:
        return f"HttpGroup({self.name!r}, {[f.name for f in self.functions]})"


def _key(fn: Function) -> tuple[object, ...]:
    s = fn.settings
    if s.standalone or s.max_concurrency is not None:
        return ("alone", fn.name)
    return (s.memory, s.effective_timeout, tuple(sorted(s.env.items())))


def http_groups(app: App) -> list[HttpGroup]:
    """The app's HTTP functions grouped by deployed function, the shared group first.

    The shared group is the largest group of functions that may share (ties: the one declared
    first); the others follow in declaration order."""
    by_key: dict[tuple[object, ...], list[Function]] = {}
    for fn in app.functions:
        if isinstance(fn.trigger, HttpTrigger):
            by_key.setdefault(_key(fn), []).append(fn)
    if not by_key:
        return []
    sharing = [fns for key, fns in by_key.items() if key[0] != "alone"]
    shared = max(sharing, key=len) if sharing else None
    groups = [HttpGroup(SHARED_GROUP, shared, shared=True)] if shared else []
    for fns in by_key.values():
        if fns is not shared:
            groups.append(HttpGroup(fns[0].name, fns, shared=False))
    if shared is not None:
        clash = next((f for f in app.functions if f.name == SHARED_GROUP and f not in shared), None)
        if clash is not None:
            raise ConfigError(
                f"app {app.name!r}: function {SHARED_GROUP!r} is deployed on its own, and "
                f"{app.name}-{SHARED_GROUP} names the function that serves the app's HTTP routes; "
                "rename it (function_name=...)"
            )
    return groups
