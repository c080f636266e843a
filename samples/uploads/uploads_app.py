"""An upload handler: read every CSV dropped under `incoming/` in the `uploads` bucket and write
an index object for it under `index/` (its columns and row count, as JSON); when the CSV is
deleted, delete its index object.

S3 delivers the key form-encoded (`+` for a space); Azure gives a blob URL; GCS a `name`. The
handler sees the same decoded key on every cloud, and that key reads the object back.
"""

from __future__ import annotations

import csv
import io
import json

from polyfn import App, Bucket, Context, StorageEvent

app = App("uploads")
uploads = Bucket("uploads")

INCOMING = "incoming/"


def index_key(key: str) -> str:
    """Where the index of the CSV at `key` lives: ``incoming/a b.csv`` -> ``index/a b.csv.json``
    (outside `incoming/` and not a .csv, so writing it fires nothing)."""
    return "index/" + key.removeprefix(INCOMING) + ".json"


@app.storage(
    uploads,
    on=["created", "deleted"],
    prefix=INCOMING,
    suffix=".csv",
    memory=256,
    uses=[uploads.read, uploads.write, uploads.delete],
)
def index_upload(event: StorageEvent, ctx: Context) -> None:
    if event.kind == "deleted":
        uploads.delete(index_key(event.key))
        ctx.log.info("upload removed", extra={"key": event.key})
        return
    data = uploads.read(event.key)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    columns = rows[0] if rows else []
    index = {
        "key": event.key,
        "bucket": event.bucket,
        "size": len(data),
        "etag": event.etag,
        "time": event.time.isoformat(),
        "columns": columns,
        "rows": max(len(rows) - 1, 0),
    }
    uploads.write(index_key(event.key), json.dumps(index), content_type="application/json")
    ctx.log.info("upload indexed", extra={"key": event.key, "rows": index["rows"]})
