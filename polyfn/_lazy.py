"""Names a package loads on first access (PEP 562), for the core and the adapters alike: a cold
start imports only what the runtime entry needs."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def lazy_attributes(
    package: str, modules: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for `package`: name -> the module in `modules` that defines it,
    imported on first access and kept in `namespace` (the package's globals) from then on."""

    def lazy_getattr(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(__import__(module, fromlist=[name]), name)
        namespace[name] = value
        return value

    return lazy_getattr
