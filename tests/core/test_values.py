"""The neutral readers of native input (polyfn._values): what each accepts, and that everything
else is an EventError naming the field and the source and saying what was expected and what came."""

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyfn import EventError
from polyfn._values import (
    arrived,
    base64_bytes,
    epoch_millis,
    from_epoch_millis,
    mapping,
    optional_int,
    optional_str,
    optional_timestamp,
    required_str,
    string_lists,
    string_map,
    timestamp,
    type_name,
)

FIELD = "message.publishTime"
SOURCE = "test source"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def refused(read, value, *, field=FIELD, **kwargs) -> EventError:
    """The EventError `read` raises for `value`, checked to name the field and the source."""
    with pytest.raises(EventError) as info:
        read(value, FIELD, SOURCE, **kwargs)
    err = info.value
    assert err.field == field
    assert err.source == SOURCE
    assert f"source {SOURCE}" in str(err) and repr(field) in str(err)
    return err


def test_type_names_speak_json():
    assert [type_name(v) for v in (None, {}, [], "", True, 1, 1.5, b"x")] == [
        "null", "an object", "an array", "a string", "a boolean", "a number", "a number",
        "a bytes value",
    ]  # fmt: skip


def test_arrived_quotes_scalars_briefly_and_never_a_whole_object():
    assert arrived(5) == "a number (5)"
    assert arrived(None) == "null"
    assert arrived({"secret": "x" * 1000}) == "an object"
    long = arrived("y" * 1000)
    assert long.startswith("a string ('yyy") and long.endswith("...)") and len(long) < 100


# -- mapping, strings --------------------------------------------------------------------------


def test_mapping():
    assert mapping({"a": 1}, FIELD, SOURCE) == {"a": 1}
    for bad, got in ((None, "null"), ([], "an array"), ("{}", "a string")):
        err = refused(mapping, bad)
        assert f"expected an object, got {got}" in str(err)


def test_required_str():
    assert required_str("abc", FIELD, SOURCE) == "abc"
    assert "required field is missing" in str(refused(required_str, None))
    assert "expected a non-empty string, got a string ('')" in str(refused(required_str, ""))
    assert "got a number (5)" in str(refused(required_str, 5))
    assert "got an array" in str(refused(required_str, ["a"]))


def test_optional_str():
    assert optional_str(None, FIELD, SOURCE) is None
    assert optional_str("", FIELD, SOURCE) is None
    assert optional_str("etag", FIELD, SOURCE) == "etag"
    # JSON carries 64-bit ids as numbers or strings: either reads as the decimal text.
    assert optional_str(1588778055917163, FIELD, SOURCE) == "1588778055917163"
    for bad in (True, 1.5, {}, []):
        assert "expected a string" in str(refused(optional_str, bad))


# -- integers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [(None, None), ("", None), (0, 0), (42, 42), ("42", 42), (" 7 ", 7), (3.0, 3),
     ("18446744073709551615", 2**64 - 1)],
)  # fmt: skip
def test_optional_int_reads_numbers_and_decimal_strings(value, number):
    assert optional_int(value, FIELD, SOURCE) == number


@pytest.mark.parametrize("value", [True, False, 1.5, float("nan"), "-1", "1e3", "0x10", "٣", "",
                                   " ", [], {}])  # fmt: skip
def test_optional_int_refuses_what_is_no_integer(value):
    if value == "":
        assert optional_int(value, FIELD, SOURCE) is None
        return
    err = refused(optional_int, value)
    assert "expected an integer, got" in str(err)


def test_optional_int_minimum():
    assert optional_int("1", FIELD, SOURCE, minimum=1) == 1
    assert optional_int(None, FIELD, SOURCE, minimum=1) is None
    err = refused(optional_int, 0, minimum=1)
    assert "expected an integer of at least 1, got a number (0)" in str(err)
    assert "got a number (-3)" in str(refused(optional_int, -3, minimum=0))


# -- maps --------------------------------------------------------------------------------------


def test_string_map():
    headers = {"accept": "*/*", "x-empty": ""}
    assert string_map(headers, FIELD, SOURCE) is headers  # no copy on the hot path
    assert string_map(None, FIELD, SOURCE) == {}
    assert "expected an object of strings, got an array" in str(refused(string_map, []))
    err = refused(string_map, {"accept": "*/*", "x-n": 1}, field=f"{FIELD}.x-n")
    assert "expected a string, got a number (1)" in str(err)
    refused(string_map, {"x": None}, field=f"{FIELD}.x")


def test_string_lists():
    multi = {"accept": ["a", "b"], "x": []}
    assert string_lists(multi, FIELD, SOURCE) is multi
    assert string_lists(None, FIELD, SOURCE) == {}
    refused(string_lists, "a=b")
    err = refused(string_lists, {"accept": "a"}, field=f"{FIELD}.accept")
    assert "expected an array of strings, got a string ('a')" in str(err)
    refused(string_lists, {"accept": ["a", 2]}, field=f"{FIELD}.accept")


# -- times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05.678Z", datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)),
        # Google: nine fractional digits; .NET: seven, with a lower-case z.
        ("2020-05-18T12:13:19.123456789Z", datetime(2020, 5, 18, 12, 13, 19, 123456, tzinfo=UTC)),
        ("2020-05-18T12:13:19.1234567z", datetime(2020, 5, 18, 12, 13, 19, 123456, tzinfo=UTC)),
        ("2024-01-02T05:04:05+02:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        # No offset: UTC (functions-framework's own CloudEvent tests send such times).
        ("2020-08-16T13:58:54.471765", datetime(2020, 8, 16, 13, 58, 54, 471765, tzinfo=UTC)),
        (" 2024-01-02T03:04:05Z\n", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_timestamp_reads_iso_8601_as_aware_utc(text, expected):
    got = timestamp(text, FIELD, SOURCE)
    assert got == expected and got.tzinfo is UTC


def test_timestamp_takes_a_datetime_a_worker_parsed():
    plus_two = timezone(timedelta(hours=2))
    got = timestamp(datetime(2024, 1, 2, 5, 4, 5, tzinfo=plus_two), FIELD, SOURCE)
    assert got == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC) and got.tzinfo is UTC
    naive = timestamp(datetime(2024, 1, 2, 3, 4, 5), FIELD, SOURCE)
    assert naive == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", ["now", "", "2024-13-01T00:00:00Z", "1704164645", None, 1704164645, {"seconds": 1}]
)
def test_timestamp_refuses_what_is_no_time(value):
    err = refused(timestamp, value)
    assert "expected an ISO 8601 time, got" in str(err)
    assert type_name(value) in str(err)


def test_optional_timestamp():
    assert optional_timestamp(None, FIELD, SOURCE) is None
    assert optional_timestamp("", FIELD, SOURCE) is None
    assert optional_timestamp("1970-01-01T00:00:00Z", FIELD, SOURCE) == EPOCH
    refused(optional_timestamp, "yesterday")


def test_epoch_millis():
    # SQS SentTimestamp: a string of digits.
    assert epoch_millis("1545082649183", FIELD, SOURCE) == datetime(
        2018, 12, 17, 21, 37, 29, 183000, tzinfo=UTC
    )
    assert epoch_millis(0, FIELD, SOURCE) == EPOCH
    last = epoch_millis("253402300799999", FIELD, SOURCE)
    assert last == datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    for bad in ("", "-1", "12.5", "1e3", " 1", 1.5, True, None, []):
        assert "expected epoch milliseconds, got" in str(refused(epoch_millis, bad))
    for bad in ("253402300800000", 10**30, -1):
        assert "from 1970 to 9999" in str(refused(epoch_millis, bad))


@given(st.integers(0, 253402300799999))
def test_epoch_millis_is_exact_to_the_millisecond(millis):
    expected = EPOCH + timedelta(milliseconds=millis)
    assert epoch_millis(str(millis), FIELD, SOURCE) == expected
    assert from_epoch_millis(millis) == expected


# -- base64 --------------------------------------------------------------------------------------


@given(st.binary(max_size=64))
def test_base64_reads_what_either_alphabet_encodes(data):
    standard = base64.b64encode(data).decode()
    assert base64_bytes(standard, FIELD, SOURCE) == data
    url_safe = base64.urlsafe_b64encode(data).decode()
    assert base64_bytes(url_safe, FIELD, SOURCE, url_safe=True) == data
    assert base64_bytes(url_safe.rstrip("="), FIELD, SOURCE, url_safe=True, padded=False) == data
    assert base64_bytes(standard, FIELD, SOURCE, url_safe=True, padded=False) == data


def test_base64_strict_by_default():
    assert base64_bytes("", FIELD, SOURCE) == b""
    # Unpadded, URL-safe or with stray characters: refused unless the caller allows it.
    for bad in ("aGk", "-_8=", "aGk=\n", "aG k=", "%%%", "aGk==="):
        err = refused(base64_bytes, bad)
        assert f"expected base64 text, got a string ({bad!r})" in str(err)
    assert base64_bytes("aGk", FIELD, SOURCE, padded=False) == b"hi"
    assert base64_bytes("-_8", FIELD, SOURCE, url_safe=True, padded=False) == b"\xfb\xff"
    for bad in (None, 5, b"aGk=", ["aGk="]):
        assert "expected base64 text, got" in str(refused(base64_bytes, bad))


# -- cost --------------------------------------------------------------------------------------


def test_importing_the_readers_loads_neither_typing_nor_datetime():
    probe = (
        "import sys\nbefore = set(sys.modules)\nimport polyfn._values\n"
        "import json\nprint(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in json.loads(out.stdout)}
    assert not loaded & {"typing", "datetime", "base64", "dataclasses", "inspect"}, loaded


# -- hostile values (issue 7, item 11) -----------------------------------------------------------


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.5-00:30"])
def test_times_that_leave_the_datetime_range_in_utc_are_refused(text):
    err = refused(timestamp, text)
    assert "years 1 to 9999" in str(err)


def test_times_at_the_ends_of_the_range_in_utc_are_read():
    assert timestamp("0001-01-01T00:00:00-01:00", FIELD, SOURCE).year == 1
    assert timestamp("9999-12-31T23:59:59+01:00", FIELD, SOURCE).year == 9999


@pytest.mark.parametrize("value", ["1" * 4300, "9" * 22, 2**64, -(2**63) - 1, 1e300])
def test_integers_beyond_64_bits_are_refused_without_int_limits(value):
    assert "64-bit" in str(refused(optional_int, value))


def test_64_bit_integers_are_read():
    assert optional_int(str(2**64 - 1), FIELD, SOURCE) == 2**64 - 1
    assert optional_int(-(2**63), FIELD, SOURCE) == -(2**63)


def test_a_huge_number_is_named_by_its_size_not_printed():
    assert arrived(10**5000) == "a number (16610 bits wide)"
    assert "bits wide" in str(refused(optional_str, 10**5000))


def test_epoch_millis_of_thousands_of_digits_are_refused():
    refused(epoch_millis, "1" * 5000)


def test_json_document_turns_depth_and_garbage_into_event_errors():
    from polyfn._values import json_document

    assert json_document(b'{"a": [1]}', "body", SOURCE) == {"a": [1]}
    for text, problem in [("[" * 100_000, "too deeply"), ("{", "is not JSON"), (b"\xff", "JSON")]:
        with pytest.raises(EventError, match=problem) as info:
            json_document(text, "body", SOURCE, hint=": hint")
        assert info.value.field == "body" and str(info.value).count("hint") == 1


def test_event_errors_are_utf8_text_whatever_they_quote():
    err = EventError("bad \ud800 value", field="attributes.k\udfff", source=SOURCE)
    assert str(err).encode("utf-8") and err.field == "attributes.k\\udfff"
