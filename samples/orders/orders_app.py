"""A small orders API: list, get, create (with a validated body) and delete.

Orders are documents in the `orders` table; a new order is also sent to the `orders` queue, which
the worker sample consumes to reserve stock. The ids come from a counter document, and the list of
ids is kept in the same document (Table has no scan: a small index, updated with conditional
writes, is enough for a sample; a large service would use its database's queries).

The same `app` runs on AWS Lambda (lambda_function.py), Azure Functions (function_app.py) and
Google Cloud Functions (main.py), and locally under `polyfn serve`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from polyfn import App, Conflict, Context, HTTPError, HttpRequest, HttpResponse, Queue, Table

app = App("orders")
orders = Table("orders")
to_worker = Queue("orders")

# The document holding the next id and every order's id, in creation order.
INDEX = "_index"
ATTEMPTS = 10


class OrderIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    note: str | None = None


def _update_index(change: Any) -> Any:
    """Apply `change(index) -> result` to the index document with a conditional write, retrying
    when another request changed it first; returns what `change` returned."""
    for _ in range(ATTEMPTS):
        current = orders.get(INDEX)
        index = {"next": 1, "ids": [], **(current or {})}
        result = change(index)
        try:
            if current is None:
                orders.put(INDEX, index, if_absent=True)
            else:
                orders.put(INDEX, index, if_version=current.version)
        except Conflict:
            continue
        return result
    raise HTTPError(503, "too many concurrent changes, try again")


def _order_key(order_id: str) -> str:
    if order_id == INDEX:
        raise HTTPError(404, f"no order {order_id!r}")
    return "order-" + order_id


@app.http("/orders", methods=["GET"], uses=[orders.get])
def list_orders(req: HttpRequest, ctx: Context) -> HttpResponse:
    """Every order, optionally only those of the given `sku` (repeat it: ?sku=a&sku=b)."""
    skus = set(req.query.getall("sku"))
    index = orders.get(INDEX) or {"ids": []}
    found = []
    for order_id in index["ids"]:
        order = orders.get(_order_key(order_id))
        if order is not None and (not skus or order["sku"] in skus):
            found.append(dict(order))
    return HttpResponse.json({"orders": found, "count": len(found)})


@app.http("/orders/{order_id}", methods=["GET"], uses=[orders.get])
def get_order(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    order = orders.get(_order_key(req.path_params["order_id"]))
    if order is None:
        raise HTTPError(404, f"no order {req.path_params['order_id']!r}")
    return dict(order)


def _take_id(index: dict[str, Any]) -> str:
    order_id = str(index["next"])
    index["next"] += 1
    index["ids"].append(order_id)
    return order_id


@app.http("/orders", methods=["POST"], body=OrderIn, uses=[orders.get, orders.put, to_worker.send])
def create_order(req: HttpRequest, ctx: Context, order: OrderIn) -> HttpResponse:
    # One conditional write takes the id and lists it (a listed id whose order is not stored
    # yet, or whose write failed, is skipped by list_orders).
    order_id = _update_index(_take_id)
    record = {"id": order_id, **order.model_dump()}
    orders.put(_order_key(order_id), record, if_absent=True)
    to_worker.send(record, attributes={"order_id": order_id})
    ctx.log.info("order created", extra={"order_id": order_id, "sku": order.sku})
    resp = HttpResponse.json(record, status=201)
    resp.headers.set("Location", f"/orders/{order_id}")
    return resp


@app.http("/orders/{order_id}", methods=["DELETE"], uses=[orders.get, orders.put, orders.delete])
def delete_order(req: HttpRequest, ctx: Context) -> None:
    order_id = req.path_params["order_id"]
    key = _order_key(order_id)
    if orders.get(key) is None:
        raise HTTPError(404, f"no order {order_id!r}")
    orders.delete(key)

    def forget(index: dict[str, Any]) -> None:
        index["ids"] = [i for i in index["ids"] if i != order_id]

    _update_index(forget)
