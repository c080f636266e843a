from polyfn import Headers, QueryParams


def test_headers_are_case_insensitive_and_keep_every_value():
    h = Headers([("X-Thing", "a"), ("x-thing", "b"), ("Accept", "text/html")])
    assert h["x-THING"] == "a"
    assert h.get("X-Thing") == "a"
    assert h.getall("X-THING") == ["a", "b"]
    assert h.multi_items() == [("X-Thing", "a"), ("X-Thing", "b"), ("Accept", "text/html")]
    assert list(h) == ["X-Thing", "Accept"]
    assert "accept" in h and "missing" not in h
    assert h.get("missing") is None and h.get("missing", "d") == "d"
    assert h.getall("missing") == []


def test_headers_set_replaces_and_add_appends():
    h = Headers({"A": "1"})
    h.add("a", "2")
    assert h.getall("A") == ["1", "2"]
    h.set("A", "3")
    assert h.getall("a") == ["3"]
    assert h.pop("a") == ["3"] and "a" not in h


def test_headers_from_multi_and_equality_ignores_name_case():
    a = Headers.from_multi({"Set-Cookie": ["x=1", "y=2"]})
    b = Headers([("set-cookie", "x=1"), ("SET-COOKIE", "y=2")])
    assert a.getall("set-cookie") == ["x=1", "y=2"]
    assert a.to_multi() == {"Set-Cookie": ["x=1", "y=2"]}
    assert a != Headers({"set-cookie": "x=1"})
    assert sorted(v for _, v in a.multi_items()) == sorted(v for _, v in b.multi_items())


def test_query_keeps_order_repeats_and_blanks():
    q = QueryParams.parse("a=1&b=&a=2&c&d=%20x+y%2B")
    assert q.get("a") == "1"
    assert q.getall("a") == ["1", "2"]
    assert q.get("b") == "" and q.get("c") == ""
    assert q.get("d") == " x y+"
    assert q.multi_items() == [("a", "1"), ("b", ""), ("a", "2"), ("c", ""), ("d", " x y+")]
    assert list(q) == ["a", "b", "c", "d"]
    assert QueryParams.parse("").multi_items() == []
