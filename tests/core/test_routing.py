import pytest

from polyfn import ConfigError
from polyfn._routing import MethodNotAllowed, NoRoute, Router


def make_router():
    r = Router()
    r.add("/orders", ["GET", "POST"], "list")
    r.add("/orders/{order_id}", ["GET", "DELETE"], "one")
    r.add("/orders/new", ["GET"], "new")
    r.add("/files/{path+}", ["GET", "PUT"], "files")
    r.add("/", ["GET"], "root")
    return r


@pytest.mark.parametrize(
    ("method", "path", "target", "params"),
    [
        ("GET", "/orders", "list", {}),
        ("GET", "/orders/", "list", {}),
        ("GET", "/orders/42", "one", {"order_id": "42"}),
        ("GET", "/orders/new", "new", {}),
        ("DELETE", "/orders/new", "one", {"order_id": "new"}),
        ("GET", "/orders/café au lait", "one", {"order_id": "café au lait"}),
        ("PUT", "/files/a/b/c.txt", "files", {"path": "a/b/c.txt"}),
        ("GET", "/", "root", {}),
    ],
)
def test_match(method, path, target, params):
    _, found, got = make_router().match(method, path)
    assert (found, got) == (target, params)


def test_404_and_405_with_the_union_of_allowed_methods():
    r = make_router()
    with pytest.raises(NoRoute):
        r.match("GET", "/nothing/here")
    with pytest.raises(NoRoute):
        r.match("GET", "/files")  # greedy needs at least one segment
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("POST", "/orders/new")
    assert exc.value.allow == ["DELETE", "GET"]


@pytest.mark.parametrize(
    "template",
    ["orders", "/a/{x}.json", "/a/{x+}/b", "/a/{x}/{x}", "/a//b", "/a/{1x}"],
)
def test_unportable_templates_are_config_errors(template):
    with pytest.raises(ConfigError):
        Router().add(template, ["GET"], "t")


def test_same_shape_with_other_names_and_duplicate_methods_are_rejected():
    r = Router()
    r.add("/a/{x}", ["GET"], "t")
    with pytest.raises(ConfigError, match="same path"):
        r.add("/a/{y}", ["POST"], "u")
    with pytest.raises(ConfigError, match="twice"):
        r.add("/a/{x}", ["GET"], "u")


def test_head_falls_back_to_get_but_is_not_advertised():
    r = make_router()
    _, target, params = r.match("HEAD", "/orders/42")
    assert (target, params) == ("one", {"order_id": "42"})
    post_only = Router()
    post_only.add("/hooks", ["POST"], "hook")
    with pytest.raises(MethodNotAllowed) as exc:
        post_only.match("HEAD", "/hooks")
    assert exc.value.allow == ["POST"]
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("PATCH", "/orders")
    assert exc.value.allow == ["GET", "POST"]
