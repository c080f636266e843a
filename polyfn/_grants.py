"""What each deployed function of an app is granted, in neutral terms, for the builders.

The builders turn each function's ``uses=`` tokens (`polyfn._resources.Operation`) and its trigger
into their cloud's permissions. This module holds what the three have in common: the resources an
app names (every handle in a ``uses=`` list and every trigger's bucket or queue), the checks
that refuse at build time what one cloud cannot deploy, and the ``polyfn build --explain`` text
(each permission granted and the declaration that caused it).

Imported by the builders only: ``import polyfn`` does not load it.
"""

from __future__ import annotations

from polyfn._app import QueueTrigger, StorageTrigger
from polyfn._errors import ConfigError
from polyfn._resources import Bucket, Queue, Resource

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from polyfn._app import App, Function

    # (kind, physical name) -> the rule a name breaks, or None: one cloud's name rules.
    NameRule = Callable[[str, str], str | None]


class Grant:
    """One permission one deployed function holds: `permission` (an IAM action, a role) on
    `scope` (an ARN, a resource path), because of `cause` (``uses=orders.send in on_upload``,
    ``trigger of on_order``)."""

    __slots__ = ("cause", "permission", "scope")

    def __init__(self, permission: str, scope: str, cause: str) -> None:
        self.permission = permission
        self.scope = scope
        self.cause = cause

    def __repr__(self) -> str:
        return f"Grant({self.permission!r}, {self.scope!r}, {self.cause!r})"


def trigger_resource(fn: Function) -> Resource | None:
    """The bucket or queue `fn`'s trigger reads from, as a handle (None for HTTP, schedules)."""
    trigger = fn.trigger
    if isinstance(trigger, StorageTrigger):
        return Bucket(trigger.bucket)
    if isinstance(trigger, QueueTrigger):
        return Queue(trigger.queue, fifo=trigger.fifo)
    return None


def app_resources(app: App) -> dict[tuple[str, str], Resource]:
    """Every resource `app` names, once each, in declaration order: the handles of each
    function's ``uses=`` and each trigger's bucket or queue. Key: (kind, logical name)."""
    found: dict[tuple[str, str], Resource] = {}
    for fn in app.functions:
        handles = [op.resource for op in fn.uses]
        source = trigger_resource(fn)
        if source is not None:
            handles.append(source)
        for handle in handles:
            known = found.setdefault((handle.kind, handle.name), handle)
            if isinstance(handle, Queue) and isinstance(known, Queue) and handle.fifo != known.fifo:
                raise ConfigError(
                    f"app {app.name!r}: queue {handle.name!r} is declared both fifo and not "
                    f"(function {fn.name!r}); use one Queue({handle.name!r}, fifo=...) handle "
                    "everywhere"
                )
    return found


def check_names(app: App, cloud: str, broken_rule: NameRule) -> None:
    """Refuse a ``uses=`` entry whose resource `cloud` cannot accept under its name: the error
    names the function that declares it and the fix. (A trigger's bucket or queue keeps the
    name it was given: the cloud's deployment reports a bad one.)"""
    for fn in app.functions:
        for handle, where in [(op.resource, f"uses= entry {op}") for op in fn.uses]:
            rule = broken_rule(handle.kind, handle.name)
            if rule is not None:
                raise ConfigError(
                    f"function {fn.name!r}: {where} names {handle.label}, which {cloud} cannot "
                    f"accept: {rule}. Rename the handle to a name every cloud accepts (for "
                    f"example {suggested_name(handle.name)!r})"
                )


def suggested_name(name: str) -> str:
    """A name most clouds accept: lowercase letters, digits and single hyphens."""
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower())
    while "--" in out:
        out = out.replace("--", "-")
    out = out.strip("-") or "resource"
    return out if len(out) >= 3 else f"{out}-res"


def check_clashes(app: App, cloud: str, entity: Callable[[Resource], str | None]) -> None:
    """Refuse two handles of different kinds that `cloud` would make one resource: `entity`
    gives the physical resource a handle becomes (a path such as ``pubsub-topic/orders``), or
    None when the kind cannot clash there."""
    seen: dict[str, Resource] = {}
    for handle in app_resources(app).values():
        key = entity(handle)
        if key is None:
            continue
        other = seen.setdefault(key, handle)
        if other is not handle and other.kind != handle.kind:
            both = {(other.kind, other.name), (handle.kind, handle.name)}
            users = ", ".join(fn.name for fn in app.functions if both & _named_by(fn))
            raise ConfigError(
                f"app {app.name!r} (functions {users}): {other.label} and {handle.label} would "
                f"both be {key} on {cloud}; rename one of the handles"
            )


def _named_by(fn: Function) -> set[tuple[str, str]]:
    """(kind, name) of every resource `fn` names: its uses= handles and its trigger's."""
    named = {(op.resource.kind, op.resource.name) for op in fn.uses}
    source = trigger_resource(fn)
    if source is not None:
        named.add((source.kind, source.name))
    return named


def explain(cloud: str, units: Iterable[tuple[str, list[Grant]]]) -> str:
    """The ``polyfn build --explain`` text: per deployed function, each grant and its cause."""
    lines = [f"{cloud}: permissions per deployed function"]
    for unit, grants in units:
        lines.append(f"  {unit}")
        if not grants:
            lines.append("    (none)")
        for g in grants:
            lines.append(f"    {g.permission} on {g.scope}  <- {g.cause}")
    return "\n".join(lines) + "\n"
