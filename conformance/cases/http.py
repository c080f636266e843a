"""The neutral HTTP cases, run against the conformance app (conformance/app.py) on every target.

Paths and query strings are written as a client sends them (percent-encoded); the expectations
say what the handler must see (decoded) and what the client must get back.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json

from conformance._httpcase import ANY, PRESENT, HttpCase

BINARY = bytes(range(256))
MEGABYTE = (BINARY * 4096)[: 1024 * 1024]
LARGE_RESPONSE = MEGABYTE[:700_000]
JSON_DOC = {"name": "café", "n": 3, "tags": ["a", "b"], "nested": {"ok": True}}
TEXT = "héllo wörld ✓\n"
LEAK = ("Traceback", "hunter2", "RuntimeError", "secret-detail")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


CASES: list[HttpCase] = [
    # -- methods ---------------------------------------------------------------------------
    HttpCase(
        "get",
        "GET",
        "/echo",
        seen={"method": "GET", "path": "/echo", "route": "/echo", "function": "echo"},
        calls=1,
        response_headers={"content-type": ["application/json"]},
        live=True,
    ),
    HttpCase(
        "post-json",
        "POST",
        "/echo",
        headers=(("Content-Type", "application/json"),),
        body=json.dumps(JSON_DOC, ensure_ascii=False).encode(),
        seen={"method": "POST", "json": JSON_DOC},
        live=True,
    ),
    HttpCase(
        "put-text",
        "PUT",
        "/echo",
        headers=(("Content-Type", "text/plain; charset=utf-8"),),
        body=TEXT.encode(),
        seen={"method": "PUT", "body_b64": _b64(TEXT.encode())},
    ),
    HttpCase(
        "patch-json",
        "PATCH",
        "/echo",
        headers=(("Content-Type", "application/json"),),
        body=b'{"op":"replace","value":[1,2]}',
        seen={"method": "PATCH", "json": {"op": "replace", "value": [1, 2]}},
    ),
    HttpCase("delete", "DELETE", "/echo", seen={"method": "DELETE", "body_len": 0}),
    HttpCase("options", "OPTIONS", "/echo", seen={"method": "OPTIONS"}),
    HttpCase(
        "head-on-a-get-route",
        "HEAD",
        "/items/42",
        status=200,
        response_body=b"",
        seen={"method": "HEAD", "path_params": {"item_id": "42"}},
        description="HEAD is answered by the GET function, with no body (RFC 9110 9.3.2)",
    ),
    HttpCase(
        "delete-none-is-204",
        "DELETE",
        "/items/42",
        status=204,
        response_body=b"",
        seen={"method": "DELETE", "path_params": {"item_id": "42"}},
    ),
    # -- paths and path parameters -----------------------------------------------------------
    HttpCase(
        "path-params",
        "GET",
        "/echo/alpha/beta",
        seen={
            "path": "/echo/alpha/beta",
            "path_params": {"first": "alpha", "second": "beta"},
            "route": "/echo/{first}/{second}",
            "function": "echo_params",
        },
    ),
    HttpCase(
        "path-param-encoded-non-ascii",
        "GET",
        "/echo/caf%C3%A9%20au%20lait/%E2%9C%93%F0%9F%98%80",
        seen={
            "path": "/echo/café au lait/✓😀",
            "path_params": {"first": "café au lait", "second": "✓😀"},
        },
        live=True,
    ),
    HttpCase(
        "path-param-percent-sign",
        "GET",
        "/echo/100%25/a%2541",
        description="a literal % in a parameter: decoding twice would turn a%41 into aA",
        seen={"path_params": {"first": "100%", "second": "a%41"}},
    ),
    HttpCase(
        "path-param-plus-is-literal",
        "GET",
        "/echo/a+b/c%2Bd",
        description="+ is not a space in a path (only in form-encoded queries)",
        seen={"path_params": {"first": "a+b", "second": "c+d"}},
    ),
    HttpCase(
        "greedy-path",
        "GET",
        "/files/docs/2024/report%20final.pdf",
        seen={
            "path_params": {"path": "docs/2024/report final.pdf"},
            "route": "/files/{path+}",
            "function": "files",
        },
    ),
    HttpCase(
        "trailing-slash",
        "GET",
        "/echo/",
        description="a trailing slash is not significant",
        seen={"function": "echo"},
    ),
    # -- query strings -------------------------------------------------------------------------
    HttpCase(
        "query-repeated",
        "GET",
        "/echo",
        query="tag=a&tag=b&x=1&tag=c",
        seen={"query": {"tag": ["a", "b", "c"], "x": ["1"]}},
        live=True,
    ),
    HttpCase(
        "query-empty-values",
        "GET",
        "/echo",
        query="empty=&x=1&flag&blank=",
        seen={"query": {"empty": [""], "x": ["1"], "flag": [""], "blank": [""]}},
    ),
    HttpCase(
        "query-encoded",
        "GET",
        "/echo",
        query="q=caf%C3%A9%20au%20lait&amp=%26%3D%3F&pct=100%25",
        seen={"query": {"q": ["café au lait"], "amp": ["&=?"], "pct": ["100%"]}},
    ),
    # -- headers ---------------------------------------------------------------------------------
    HttpCase(
        "headers-repeated-in",
        "GET",
        "/echo",
        headers=(("X-Multi", "one"), ("X-Single", "solo"), ("X-Multi", "two")),
        seen={"headers": {"x-multi": ["one", "two"], "x-single": ["solo"]}},
        live=True,
    ),
    HttpCase(
        "headers-case-insensitive",
        "GET",
        "/echo",
        headers=(("X-Mixed-CASE", "Value Kept"),),
        seen={"headers": {"x-mixed-case": ["Value Kept"]}},
    ),
    HttpCase(
        "headers-repeated-out",
        "GET",
        "/respond",
        query="h=X-Multi:one%0AX-Multi:two%0AX-Other:3",
        response_headers={"x-multi": ["one", "two"], "x-other": ["3"]},
    ),
    HttpCase(
        "source-ip",
        "GET",
        "/echo",
        seen={"source_ip": "203.0.113.7"},
    ),
    # -- cookies -------------------------------------------------------------------------------
    HttpCase(
        "cookies-in",
        "GET",
        "/echo",
        cookies=(("session", "abc123"), ("theme", "dark"), ("token", "dG9r+ZW4=")),
        description="a base64 value keeps its '=' padding and '+'",
        seen={"cookies": {"session": "abc123", "theme": "dark", "token": "dG9r+ZW4="}},
        live=True,
    ),
    HttpCase(
        "cookies-out-several",
        "GET",
        "/respond",
        query=(
            "c=session%3Dabc%3B%20Path%3D%2F%3B%20HttpOnly"
            "&c=theme%3Ddark%3B%20Max-Age%3D3600"
            "&c=lang%3Dfr%3B%20Path%3D%2F%3B%20Secure%3B%20SameSite%3DLax"
            "&c=seen%3D1%3B%20Expires%3DWed%2C%2021%20Oct%202026%2007%3A28%3A00%20GMT"
        ),
        description="Expires holds a comma: cookies joined with commas could not be split",
        set_cookies=(
            "session=abc; Path=/; HttpOnly",
            "theme=dark; Max-Age=3600",
            "lang=fr; Path=/; Secure; SameSite=Lax",
            "seen=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
        ),
        live=True,
    ),
    # -- request bodies --------------------------------------------------------------------------
    HttpCase(
        "form-body",
        "POST",
        "/echo",
        headers=(("Content-Type", "application/x-www-form-urlencoded"),),
        body=b"a=1&b=caf%C3%A9&b=2&empty=&sp=x+y",
        seen={"form": [["a", "1"], ["b", "café"], ["b", "2"], ["empty", ""], ["sp", "x y"]]},
    ),
    HttpCase(
        "binary-body",
        "POST",
        "/echo",
        headers=(("Content-Type", "application/octet-stream"),),
        body=BINARY,
        seen={"body_b64": _b64(BINARY), "body_len": 256},
        live=True,
    ),
    HttpCase(
        "latin1-text-body",
        "POST",
        "/echo",
        headers=(("Content-Type", "text/plain; charset=iso-8859-1"),),
        body="café".encode("latin-1"),
        description="a text type whose bytes are not UTF-8 must arrive byte for byte",
        seen={"body_b64": _b64("café".encode("latin-1"))},
    ),
    HttpCase(
        "empty-body",
        "POST",
        "/echo",
        seen={"body_len": 0, "body_b64": ""},
    ),
    HttpCase(
        "one-megabyte-body",
        "POST",
        "/echo",
        headers=(("Content-Type", "application/octet-stream"),),
        body=MEGABYTE,
        seen={"body_len": len(MEGABYTE), "body_sha256": _sha(MEGABYTE)},
        live=True,
    ),
    # -- response bodies and conversions -----------------------------------------------------------
    HttpCase(
        "binary-out",
        "GET",
        "/respond",
        query="kind=binary",
        response_body=BINARY,
        response_headers={"content-type": ["application/octet-stream"]},
        live=True,
    ),
    HttpCase(
        "large-binary-response",
        "GET",
        "/respond",
        query=f"kind=binary&size={len(LARGE_RESPONSE)}",
        description=(
            "as large as every target carries back: an ALB takes at most 1 MB of response JSON, "
            "and these 700 kB are 933 kB in base64"
        ),
        response_body=LARGE_RESPONSE,
    ),
    HttpCase(
        "gzip-out",
        "GET",
        "/respond",
        query="kind=gzip&text=compressed%20%E2%9C%93",
        description="a Content-Encoding makes a text type binary: it must not travel as text",
        response_body=gzip.compress("compressed ✓".encode(), mtime=0),
        response_headers={
            "content-encoding": ["gzip"],
            "content-type": ["text/plain; charset=utf-8"],
        },
    ),
    HttpCase(
        "image-out",
        "GET",
        "/respond",
        query="kind=binary&size=1000&ctype=image%2Fpng",
        response_body=(BINARY * 4)[:1000],
        response_headers={"content-type": ["image/png"]},
    ),
    HttpCase(
        "return-dict-is-json",
        "GET",
        "/return/dict",
        response_json={"kind": "dict", "n": 1, "unicode": "café ✓"},
        response_headers={"content-type": ["application/json"]},
    ),
    HttpCase("return-list-is-json", "GET", "/return/list", response_json=[1, "two", None]),
    HttpCase(
        "return-str-is-text",
        "GET",
        "/return/str",
        response_body="plain text ✓".encode(),
        response_headers={"content-type": ["text/plain; charset=utf-8"]},
    ),
    HttpCase(
        "return-bytes-is-binary",
        "GET",
        "/return/bytes",
        response_body=BINARY,
        response_headers={"content-type": ["application/octet-stream"]},
    ),
    HttpCase("return-none-is-204", "GET", "/return/none", status=204, response_body=b""),
    HttpCase(
        "return-tuple-status", "GET", "/return/tuple", status=201, response_json={"created": True}
    ),
    HttpCase(
        "return-model-is-json",
        "GET",
        "/return/model",
        response_json={"sku": "ABC-1", "quantity": 2},
    ),
    HttpCase(
        "text-out-status",
        "GET",
        "/respond",
        query="kind=text&status=202&text=accepted%20%E2%9C%93",
        status=202,
        response_body="accepted ✓".encode(),
    ),
    HttpCase(
        "html-out",
        "GET",
        "/respond",
        query="kind=html&text=%3Cp%3Ehi%3C%2Fp%3E",
        response_body=b"<p>hi</p>",
        response_headers={"content-type": ["text/html; charset=utf-8"]},
    ),
    HttpCase(
        "empty-200",
        "GET",
        "/respond",
        query="kind=empty&status=200",
        status=200,
        response_body=b"",
    ),
    HttpCase(
        "redirect",
        "GET",
        "/redirect",
        status=302,
        response_headers={"location": ["https://example.com/landing?from=conformance"]},
        response_body=b"",
    ),
    # -- errors ------------------------------------------------------------------------------------
    HttpCase(
        "not-found",
        "GET",
        "/no/such/path",
        description=(
            "status only: where no function's route matches, a cloud's front end may answer "
            "itself (the Azure host does, with an empty body)"
        ),
        status=404,
        calls=0,
    ),
    HttpCase(
        "method-not-allowed",
        "POST",
        "/items/7",
        status=405,
        response_headers={"allow": ["DELETE", "GET"]},
        json_subset={"error": "method not allowed"},
        calls=0,
    ),
    HttpCase(
        "http-error",
        "GET",
        "/fail/http/418",
        status=418,
        response_json={"error": "refused on purpose"},
        response_headers={"x-why": ["test"]},
    ),
    HttpCase(
        "crash-is-500",
        "GET",
        "/fail/crash",
        status=500,
        json_subset={"error": "internal error", "request_id": PRESENT},
        body_excludes=LEAK,
        live=True,
    ),
    HttpCase(
        "injected-header-is-500",
        "GET",
        "/respond",
        query="h=X-Note:ok%0D%0AX-Injected:%20yes",
        description=(
            "a CR or LF in a header value would start a header line of its own where a server "
            "writes the response: polyfn answers its own 500 instead, on every target"
        ),
        status=500,
        json_subset={"error": "internal error", "request_id": PRESENT},
        absent_headers=("x-note", "x-injected"),
        set_cookies=(),
    ),
    HttpCase(
        "injected-cookie-is-500",
        "GET",
        "/respond",
        query="c=session%3Dabc%0D%0ASet-Cookie%3A%20admin%3D1",
        description="the same for a Set-Cookie value: no cookie of it reaches the client",
        status=500,
        json_subset={"error": "internal error", "request_id": PRESENT},
        set_cookies=(),
    ),
    HttpCase(
        "body-invalid-is-400",
        "POST",
        "/orders",
        headers=(("Content-Type", "application/json"),),
        body=b'{"sku": "", "quantity": 0}',
        status=400,
        json_subset={"error": "request body failed validation", "fields": ANY},
        calls=0,
    ),
    HttpCase(
        "body-not-json-is-400",
        "POST",
        "/orders",
        headers=(("Content-Type", "application/json"),),
        body=b"sku=x&quantity=1",
        status=400,
        json_subset={"error": "request body is not valid JSON"},
        calls=0,
    ),
    HttpCase(
        "body-valid-model",
        "POST",
        "/orders",
        headers=(("Content-Type", "application/json"),),
        body=b'{"sku": "A-9", "quantity": 3}',
        status=201,
        response_json={"sku": "A-9", "quantity": 3},
    ),
]

# What a client gets back from these does not depend on the cloud: the runner also checks that
# every target answered them with the same status, body and cookies.
SAME_EVERYWHERE = {
    "headers-repeated-out", "cookies-out-several", "large-binary-response", "gzip-out",
    "binary-out", "image-out", "return-dict-is-json", "return-list-is-json", "return-str-is-text",
    "return-bytes-is-binary", "return-none-is-204", "return-tuple-status", "return-model-is-json",
    "text-out-status", "html-out", "empty-200", "redirect", "http-error", "body-invalid-is-400",
    "body-not-json-is-400", "body-valid-model",
}  # fmt: skip
CASES = [
    dataclasses.replace(case, same_everywhere=True) if case.name in SAME_EVERYWHERE else case
    for case in CASES
]
