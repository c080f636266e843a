"""A nightly cleanup: every day at 02:30 UTC, drop the expired entries of a cache.

The schedule is declared once as unix cron; polyfn renders it as an EventBridge rule on AWS,
NCRONTAB on Azure (`0 30 2 * * *`) and a Cloud Scheduler job on GCP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from polyfn import App, Context, TimerEvent

app = App("cleanup")

# An in-memory stand-in for the store a real job would sweep (a table, a bucket prefix).
CACHE: dict[str, datetime] = {}
TTL = timedelta(days=1)
RUNS: list[dict[str, object]] = []


@app.schedule("30 2 * * *", timeout=120)
def nightly_cleanup(event: TimerEvent, ctx: Context) -> None:
    now = event.scheduled_time or datetime.now(UTC)
    expired = [key for key, stored in CACHE.items() if now - stored > TTL]
    for key in expired:
        del CACHE[key]
    RUNS.append({"removed": len(expired), "past_due": event.past_due, "at": now.isoformat()})
    ctx.log.info("cleanup done", extra={"removed": len(expired), "past_due": event.past_due})
