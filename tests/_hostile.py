"""Hostile mutations of real payloads, shared by the adapters' fuzz tests (tests/*/test_fuzz.py).

`mangled(payload)` drops keys, adds keys and replaces values anywhere in a payload fixture with
`HOSTILE` values: other JSON types, 64-bit-overflowing and 4,300-digit integers (as numbers and as
digit strings), negative sizes, times at the ends of the datetime range with offsets that push
them out of it, lone surrogates and control characters, and structures nested deeper than the
JSON parser's recursion limit (written into the JSON text by `dumps`).

The number of examples is FUZZ_EXAMPLES (environment variable POLYFN_FUZZ_EXAMPLES); the suite
keeps it small, a local run raises it: ``POLYFN_FUZZ_EXAMPLES=20000 pytest tests -k fuzz``.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = int(os.environ.get("POLYFN_FUZZ_EXAMPLES", "150"))
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Placeholders that `dumps` writes as JSON nested DEPTH deep (past the default recursion limit)
# and as a number of HUGE_DIGITS digits (past int()'s 4,300-digit limit), and `expand` as Python
# values. Hypothesis prints what it drew, and a 4,300-digit int cannot even be printed.
DEEP = "\x00polyfn-deep\x00"
DEPTH = 100_000
HUGE = "\x00polyfn-huge\x00"
HUGE_DIGITS = 4400

TIMES = [
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:30:00+00:30",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.9999999Z",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00",
    "2024-02-30T00:00:00Z",
    "2024-05-06T15:14:16.211Z",
]
NUMBERS = [
    -1,
    0,
    2**63,
    2**64,
    -(2**63) - 1,
    HUGE,
    "1" * HUGE_DIGITS,
    "-1",
    "18446744073709551616",
    1e308,
    -0.5,
]
TEXTS = ["", " ", "\ud800", "a\udfffb", "\x00", "\r\n", "é", "%ZZ", "../..", "http://[::1"]

hostile_scalars = st.one_of(
    st.sampled_from([*TIMES, *NUMBERS, *TEXTS, DEEP, HUGE]),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
)
HOSTILE = st.recursive(
    hostile_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.just("\udc80"), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into nested objects and arrays (the places a mutation can land)."""
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key != "_comment":
                out.extend(_paths(value, (*prefix, key)))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            out.extend(_paths(value, (*prefix, index)))
    return out


@st.composite
def mangled(draw: st.DrawFn, payload: Any, *, under: tuple[Any, ...] = ()) -> Any:
    """A deep copy of `payload` with one to four keys dropped, added or given a HOSTILE value;
    with `under`, only paths below that one are touched (a host envelope stays readable)."""
    out = copy.deepcopy(payload)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(out) if p[: len(under)] == under and len(p) > len(under)]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = out
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["drop", "add", "replace", "replace"]))
        if action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6) | st.just("k\ud800"))] = draw(HOSTILE)
        else:
            parent[path[-1]] = draw(HOSTILE)
    return out


def dumps(obj: Any) -> str:
    """JSON text of `obj`, with the DEEP and HUGE placeholders written out."""
    text = json.dumps(obj).replace(json.dumps(DEEP), "[" * DEPTH + "]" * DEPTH)
    return text.replace(json.dumps(HUGE), "1" * HUGE_DIGITS)


# The widest number and the deepest nesting json.loads still reads (int()'s 4,300-digit limit;
# the default recursion limit of 1,000, less the frames of a Lambda runtime): what an event
# parsed from JSON can hold.
JSON_DIGITS = 4300
JSON_DEPTH = 900


def expand(obj: Any) -> Any:
    """`obj` with each HUGE placeholder as the widest number and each DEEP one as the deepest
    nesting a JSON parser gives (the values a Python runtime hands over after json.loads)."""
    if obj == HUGE:
        return 10 ** (JSON_DIGITS - 1)
    if obj == DEEP:
        deep: list[Any] = []
        for _ in range(JSON_DEPTH):
            deep = [deep]
        return deep
    if isinstance(obj, dict):
        return {k: expand(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [expand(v) for v in obj]
    return obj
