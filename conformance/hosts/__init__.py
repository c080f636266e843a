"""One fake host per cloud: what each cloud's runtime does around one function call, written from
the cloud's documentation and its own libraries' sources, sharing no code with the adapters.

- `aws`: the Lambda runtime (awslambdaric's context, the runtime's environment, a failed
  invocation's error payload);
- `azure`: the Functions host and the Python worker (TypedData into Datums, azure-functions' own
  converters, the ``context`` argument, the InvocationResponse);
- `gcp`: functions-framework's own Flask app serving a polyfn app (``create_app``).

The conformance drivers (targets/), ``polyfn invoke`` (each adapter's `_samples.invoke`), the
tests and the benchmarks all use these modules: there is no other emulation of a cloud's host.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


@contextlib.contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """`values` in os.environ (None: unset) for the block, the old values restored after: what a
    host sets around one call or one app's loading, and no longer."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
