"""An order worker: take orders off the `orders` queue and reserve stock for each in the `stock`
table, with conditional writes so that concurrent workers never sell the same item twice.

Each stock document is ``{"available": n, "reserved": m}`` under its SKU. A reservation reads the
document, then writes it back only if nobody changed it since (``if_version=``); when another
worker won the race (`Conflict`), it reads again and retries. `idempotent` keeps each message's
outcome in the `reservations` table, so a message delivered twice (SQS and Pub/Sub deliver at
least once) reserves once.

A message whose handler raises is never acknowledged: on SQS it alone is reported in
batchItemFailures and comes back; on Azure and GCP the invocation fails and the cloud redelivers it
(then dead-letters it after the retries run out).
"""

from __future__ import annotations

from polyfn import App, Conflict, Context, Queue, QueueMessage, Table, idempotent

app = App("worker")
orders = Queue("orders")
stock = Table("stock")
reservations = Table("reservations")

# How often a reservation retries after losing a race to another worker.
ATTEMPTS = 10


class OutOfStockError(Exception):
    pass


def restock(sku: str, quantity: int) -> None:
    """Add `quantity` of `sku` to the stock (a script or an admin job; the same retry loop)."""
    for _ in range(ATTEMPTS):
        current = stock.get(sku)
        fields = {"available": 0, "reserved": 0, **(current or {})}
        fields["available"] += quantity
        try:
            if current is None:
                stock.put(sku, fields, if_absent=True)
            else:
                stock.put(sku, fields, if_version=current.version)
            return
        except Conflict:
            continue
    raise Conflict(f"stock {sku!r}: {ATTEMPTS} writers in a row changed it first")


def _reserve(sku: str, quantity: int, order_id: str) -> int:
    """Take `quantity` of `sku`; returns what is left. Raises OutOfStockError."""
    for _ in range(ATTEMPTS):
        current = stock.get(sku)
        available = int(current["available"]) if current is not None else 0
        if current is None or available < quantity:
            raise OutOfStockError(f"order {order_id}: {quantity} x {sku} wanted, {available} left")
        fields = {
            **current,
            "available": available - quantity,
            "reserved": int(current.get("reserved", 0)) + quantity,
        }
        try:
            stock.put(sku, fields, if_version=current.version)
        except Conflict:
            continue  # another worker reserved meanwhile: read again
        return available - quantity
    raise Conflict(f"order {order_id}: stock {sku!r} kept changing ({ATTEMPTS} attempts)")


@app.queue(orders, batch_size=10, retries=4, dead_letter="orders-dead", uses=[stock.get, stock.put])
@idempotent(reservations, key="id", ttl=14 * 24 * 3600)
def reserve_stock(msg: QueueMessage, ctx: Context) -> dict[str, object]:
    order = msg.json()
    sku, quantity = order["sku"], int(order["quantity"])
    left = _reserve(sku, quantity, msg.id)
    ctx.log.info(
        "reserved", extra={"message_id": msg.id, "sku": sku, "quantity": quantity, "left": left}
    )
    return {"sku": sku, "quantity": quantity, "left": left, "try": msg.delivery_count}
