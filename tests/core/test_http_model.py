import datetime
import decimal
import json
import uuid

import pytest

from polyfn import HttpRequest, HttpResponse
from polyfn._http import is_text_content, to_response


def test_request_normalizes_method_and_parses_cookies_from_every_cookie_header():
    req = HttpRequest(
        "post",
        "/x",
        headers=[("Cookie", 'a=1; b="two"'), ("cookie", "c=3; a=ignored")],
        body=b'{"k": [1, 2]}',
    )
    assert req.method == "POST"
    assert req.cookies == {"a": "1", "b": "two", "c": "3"}
    assert req.json() == {"k": [1, 2]}
    assert req.text == '{"k": [1, 2]}'


def test_request_text_honours_charset():
    req = HttpRequest("POST", "/", headers={"Content-Type": "text/plain; charset=latin-1"},
                      body="café".encode("latin-1"))  # fmt: skip
    assert req.text == "café"


def test_request_query_from_raw_string_and_pairs():
    assert HttpRequest("GET", "/", query="a=1&a=2").query.getall("a") == ["1", "2"]
    assert HttpRequest("GET", "/", query=[("a", "x")]).query.get("a") == "x"


def test_json_response_handles_common_types():
    resp = HttpResponse.json(
        {
            "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "price": decimal.Decimal("9.50"),
            "count": decimal.Decimal("3"),
            "id": uuid.UUID(int=1),
            "tags": {"a"},
            "name": "café",
        },
        status=201,
    )
    assert resp.status == 201
    assert resp.headers["content-type"] == "application/json"
    assert json.loads(resp.body) == {
        "when": "2026-01-02T03:04:05+00:00",
        "price": 9.5,
        "count": 3,
        "id": "00000000-0000-0000-0000-000000000001",
        "tags": ["a"],
        "name": "café",
    }
    assert "café".encode() in resp.body  # UTF-8, not \u escapes


def test_unserializable_json_raises_type_error():
    with pytest.raises(TypeError, match="object"):
        HttpResponse.json({"x": object()})


@pytest.mark.parametrize(
    ("result", "status", "ctype", "body"),
    [
        (None, 204, None, b""),
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ([1], 200, "application/json", b"[1]"),
        ("hi", 200, "text/plain; charset=utf-8", b"hi"),
        (b"\x00\x01", 200, "application/octet-stream", b"\x00\x01"),
        (("made", 201), 201, "text/plain; charset=utf-8", b"made"),
    ],
)
def test_handler_results_convert(result, status, ctype, body):
    resp = to_response(result)
    assert (resp.status, resp.headers.get("content-type"), resp.body) == (status, ctype, body)


def test_unsupported_result_is_a_type_error_naming_the_type():
    with pytest.raises(TypeError, match="float"):
        to_response(1.5)


def test_redirect_and_cookies():
    resp = HttpResponse.redirect("https://example.com/next", 303)
    assert resp.status == 303 and resp.headers["Location"] == "https://example.com/next"
    resp.set_cookie("a", "1", http_only=True, same_site="Lax").set_cookie("b", "2", path=None)
    assert resp.cookies == ["a=1; Path=/; HttpOnly; SameSite=Lax", "b=2"]
    with pytest.raises(ValueError):
        HttpResponse.redirect("/x", 200)


def test_normalized_moves_set_cookie_headers_into_cookies():
    resp = HttpResponse(b"", headers=[("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X", "y")])
    resp.cookies.append("c=3")
    resp.normalized()
    assert resp.cookies == ["c=3", "a=1", "b=2"]
    assert "set-cookie" not in resp.headers and resp.headers["x"] == "y"


@pytest.mark.parametrize(
    ("ctype", "encoding", "text"),
    [
        ("application/json", None, True),
        ("text/html; charset=utf-8", None, True),
        ("application/vnd.api+json", None, True),
        ("image/svg+xml", None, True),
        ("text/plain", "gzip", False),
        ("image/png", None, False),
        (None, None, False),
        ("application/octet-stream", None, False),
    ],
)
def test_text_content_detection(ctype, encoding, text):
    assert is_text_content(ctype, encoding) is text


def test_is_text_requires_valid_utf8():
    assert HttpResponse(b"\xff\xfe", content_type="text/plain").is_text() is False
    assert HttpResponse(b"ok", content_type="text/plain").is_text() is True
    assert HttpResponse(b"", content_type="image/png").is_text() is True


def test_text_or_none_decodes_text_once_and_refuses_binary():
    assert HttpResponse.json({"a": "é"}).text_or_none() == '{"a":"é"}'
    assert HttpResponse(b"", content_type="image/png").text_or_none() == ""
    assert HttpResponse(b"\x89PNG", content_type="image/png").text_or_none() is None
    assert HttpResponse(b"\xff", content_type="text/plain").text_or_none() is None
    gz = HttpResponse(b"x", headers={"Content-Encoding": "gzip"}, content_type="application/json")
    assert gz.text_or_none() is None


def test_json_of_text_utf8_cannot_hold_is_escaped_not_an_error() -> None:
    # A lone surrogate (how Python keeps an undecodable byte) has no UTF-8 form: JSON's \u
    # escape still says it, so a handler echoing such a header answers, not 500.
    import json as _json

    from polyfn._http import dump_json

    body = dump_json({"h": "\ud800", "ok": "café"})
    assert body.isascii()
    assert _json.loads(body) == {"h": "\ud800", "ok": "café"}
    assert dump_json({"ok": "café"}) == '{"ok":"café"}'.encode()
