"""Reading what the Azure worker hands a function: azure-functions' objects compute their
properties on read, so a mangled input surfaces as an `EventError` naming the field and the
source, never a bare AttributeError or TypeError. (What a value must be is read by the neutral
readers in `polyfn._values`.)"""

from __future__ import annotations

from typing import Any

from polyfn import EventError


def attribute(obj: Any, name: str, field: str, source: str) -> Any:
    """`obj.name`; azure-functions' properties compute on read (``method.upper()``), so a value of
    the wrong type surfaces here as AttributeError or TypeError."""
    try:
        return getattr(obj, name)
    except (AttributeError, TypeError, ValueError) as exc:
        raise EventError(f"cannot read {name}: {exc}", field=field, source=source) from None
