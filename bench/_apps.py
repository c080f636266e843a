"""The polyfn app the cloud benchmarks serve: one HTTP route, one storage and one schedule
function, each doing trivial work (the raw functions they are compared with do the same)."""

from __future__ import annotations

from collections import deque
from typing import Any

import polyfn

# Where the benchmark handlers put what they read: bounded, so timing many calls grows no list.
Seen = deque[Any]


def seen_box() -> Seen:
    return deque(maxlen=16)


def shop_app(seen: Seen, *, storage_on: tuple[str, ...] = ("created",)) -> polyfn.App:
    """App "shop": GET /orders/{order_id} answers {"id": ...}; the storage function (bucket
    "uploads") and the schedule "nightly" (02:00 UTC) append what they got to `seen`."""
    app = polyfn.App("shop")

    @app.http("/orders/{order_id}", methods=["GET"])
    def get_order(req: polyfn.HttpRequest, ctx: polyfn.Context) -> dict[str, str]:
        return {"id": req.path_params["order_id"]}

    @app.storage("uploads", on=storage_on)
    def on_upload(event: polyfn.StorageEvent, ctx: polyfn.Context) -> None:
        seen.append(event.size)

    @app.schedule("0 2 * * *")
    def nightly(event: polyfn.TimerEvent, ctx: polyfn.Context) -> None:
        seen.append(event.scheduled_time)

    return app
