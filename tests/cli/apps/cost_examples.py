"""The functions of the clouds' published pricing examples (tests/cli/test_cost.py): each declares
the memory its example states; the profile gives its traffic."""

from __future__ import annotations

from typing import Any

from polyfn import App

app = App("pricing-examples")


def _done(event: Any, ctx: Any) -> None:
    return None


def _ok(req: Any, ctx: Any) -> dict[str, bool]:
    return {"ok": True}


# Lambda's examples: schedule functions, which imply no other AWS charge (EventBridge rules).
app.schedule("0 * * * *", function_name="lambda_512", memory=512)(_done)
app.schedule("0 * * * *", function_name="lambda_128", memory=128)(_done)
app.schedule("0 * * * *", function_name="lambda_1536", memory=1536)(_done)
app.schedule("0 * * * *", function_name="lambda_1024", memory=1024)(_done)
# Azure's and Cloud Functions' examples: HTTP functions (no gateway on either).
app.http("/azure", function_name="azure_512", memory=512)(_ok)
app.http("/gcf", function_name="gcf_128", memory=128)(_ok)
# Triggers that imply queue, topic and storage requests.
app.queue("orders", function_name="on_order", batch_size=10)(_done)
app.subscribe("news", function_name="on_news")(_done)
app.storage("uploads", function_name="on_upload")(_done)
