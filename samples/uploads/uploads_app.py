"""An upload handler: index every CSV dropped under `incoming/` in the `uploads` bucket, and
forget it when it is deleted.

S3 delivers the key form-encoded (`+` for a space); Azure gives a blob URL; GCS a `name`. The
handler sees the same decoded key on every cloud.
"""

from __future__ import annotations

from typing import Any

from polyfn import App, Context, StorageEvent

app = App("uploads")

INDEX: dict[str, dict[str, Any]] = {}


@app.storage("uploads", on=["created", "deleted"], prefix="incoming/", suffix=".csv", memory=256)
def index_upload(event: StorageEvent, ctx: Context) -> None:
    if event.kind == "deleted":
        INDEX.pop(event.key, None)
        ctx.log.info("upload removed", extra={"key": event.key})
        return
    INDEX[event.key] = {
        "bucket": event.bucket,
        "size": event.size,
        "etag": event.etag,
        "time": event.time.isoformat(),
    }
    ctx.log.info("upload indexed", extra={"key": event.key, "size": event.size})
