"""An order worker: take orders off the `orders` queue and reserve stock for each.

A message whose handler raises is never acknowledged: on SQS it alone is reported in
batchItemFailures and comes back; on Azure and GCP the invocation fails and the cloud redelivers it
(then dead-letters it after the retries run out).
"""

from __future__ import annotations

from polyfn import App, Context, QueueMessage

app = App("worker")

STOCK: dict[str, int] = {"apple": 10, "pear": 3}
RESERVED: list[dict[str, object]] = []


class OutOfStockError(Exception):
    pass


@app.queue("orders", batch_size=10, retries=4, dead_letter="orders-dead")
def reserve_stock(msg: QueueMessage, ctx: Context) -> None:
    order = msg.json()
    sku, quantity = order["sku"], int(order["quantity"])
    if STOCK.get(sku, 0) < quantity:
        raise OutOfStockError(
            f"order {msg.id}: {quantity} x {sku} wanted, {STOCK.get(sku, 0)} left"
        )
    STOCK[sku] -= quantity
    RESERVED.append({"id": msg.id, "sku": sku, "quantity": quantity, "try": msg.delivery_count})
    ctx.log.info("reserved", extra={"message_id": msg.id, "sku": sku, "quantity": quantity})
