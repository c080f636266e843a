"""Hostile events (tests/_hostile.py) through `polyfn_aws.handler`: an answer or an `EventError`
naming what was wrong, never another exception, whatever the Lambda runtime hands over."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from polyfn import EventError
from tests._hostile import FUZZ_SETTINGS, expand, mangled

from .conftest import load
from .test_mangled import FIXTURES, check_http_answer, outcome


@FUZZ_SETTINGS
@given(data=st.data())
def test_hostile_events_give_an_answer_or_an_event_error(data: Any) -> None:
    name = data.draw(st.sampled_from(FIXTURES))
    result, _ = outcome(expand(data.draw(mangled(load(name)))))
    if isinstance(result, EventError):
        str(result).encode("utf-8")
    elif isinstance(result, dict) and "statusCode" in result:
        check_http_answer(result)
