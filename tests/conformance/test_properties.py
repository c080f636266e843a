"""Generated requests through every HTTP target: what the client sent is what the handler saw.

Hypothesis writes path parameters, query values and header values (Unicode, reserved characters,
percent signs, plus signs, spaces); each request is rendered by every HTTP driver and must reach
the handler decoded exactly, on every cloud.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import _runner
from conformance._apps import DEFAULT_APP, load_app
from conformance._httpcase import HttpCase

HTTP_TARGETS = [t for t in _runner.load_targets() if t.trigger == "http"]

# A path segment: any character but controls, surrogates and the characters that end a path or
# a segment ("/", "?", "#": HTTP APIs deliver the path decoded, so an encoded "/" or "?" would
# change its meaning there); not "." or "..", which clients and servers normalise away.
_segment = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="/?#\\"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip(".") != "" and s == s.strip())
_query_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=0, max_size=12)
_header_value = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=","),
    min_size=1,
    max_size=20,
)


@st.composite
def requests(draw: Any) -> HttpCase:
    first, second = draw(_segment), draw(_segment)
    names = draw(st.lists(st.sampled_from(["a", "b", "c d", "é", "x+y"]), max_size=3, unique=True))
    query = [(name, draw(_query_text)) for name in names]
    header = draw(_header_value)
    return HttpCase(
        "generated",
        "GET",
        f"/echo/{quote(first, safe='')}/{quote(second, safe='')}",
        query="&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query),
        headers=(("X-Generated", header),),
        seen={
            "path_params": {"first": first, "second": second},
            "query": {k: [v] for k, v in query},
            "headers": {"x-generated": [header]},
        },
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_generated_requests_arrive_decoded_on_every_target(case: HttpCase) -> None:
    app = load_app(DEFAULT_APP)
    failures = []
    for target in HTTP_TARGETS:
        result = _runner.run_one(case, target, app)
        if result.status == _runner.FAIL:
            failures.append(f"{target.name}: {result.problems}")
    assert not failures, f"{case.path}?{case.query}\n" + "\n".join(failures)
