"""A small orders API: list, get, create (with a validated body) and delete.

The same `app` runs on AWS Lambda (lambda_function.py), Azure Functions (function_app.py) and
Google Cloud Functions (main.py). Orders are kept in memory per instance, which is enough to show
the API; a real service would put them in a database.
"""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import BaseModel, Field

from polyfn import App, Context, HTTPError, HttpRequest, HttpResponse

app = App("orders")

_orders: dict[str, dict[str, Any]] = {}
_ids = itertools.count(1)


class OrderIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    note: str | None = None


@app.http("/orders", methods=["GET"])
def list_orders(req: HttpRequest, ctx: Context) -> HttpResponse:
    """Every order, optionally only those of the given `sku` (repeat it: ?sku=a&sku=b)."""
    skus = set(req.query.getall("sku"))
    found = [o for o in _orders.values() if not skus or o["sku"] in skus]
    return HttpResponse.json({"orders": found, "count": len(found)})


@app.http("/orders/{order_id}", methods=["GET"])
def get_order(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    order = _orders.get(req.path_params["order_id"])
    if order is None:
        raise HTTPError(404, f"no order {req.path_params['order_id']!r}")
    return order


@app.http("/orders", methods=["POST"], body=OrderIn)
def create_order(req: HttpRequest, ctx: Context, order: OrderIn) -> HttpResponse:
    order_id = str(next(_ids))
    record = {"id": order_id, **order.model_dump()}
    _orders[order_id] = record
    ctx.log.info("order created", extra={"order_id": order_id, "sku": order.sku})
    resp = HttpResponse.json(record, status=201)
    resp.headers.set("Location", f"/orders/{order_id}")
    return resp


@app.http("/orders/{order_id}", methods=["DELETE"])
def delete_order(req: HttpRequest, ctx: Context) -> None:
    if _orders.pop(req.path_params["order_id"], None) is None:
        raise HTTPError(404, f"no order {req.path_params['order_id']!r}")


def reset() -> None:
    """Forget every order (for tests and the demo)."""
    _orders.clear()
    global _ids  # noqa: PLW0603 - a sample's in-memory store
    _ids = itertools.count(1)
