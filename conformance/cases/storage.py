"""Neutral storage cases: an object of the conformance bucket is created or deleted.

Keys hold what clouds encode differently: spaces (S3 writes them as ``+``), plus signs (S3 writes
``%2B``), percent signs, unicode and slashes; sizes run from zero bytes to the largest object S3
accepts (5 TiB, beyond 32 bits). The handler must see the key exactly as the object is named, the
kind, the bucket, and for a created object its size. Clouds differ on the size of a deleted
object (S3 and Event Grid omit it, Cloud Storage repeats the metadata), so deletes do not compare
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from conformance.app_events import BUCKET, DELETE_FUNCTION, STORAGE_FUNCTION, differences

if TYPE_CHECKING:
    from conformance._spec import Outcome, Target

LARGEST_S3_OBJECT = (
    5 * 1024**4
)  # 5 TiB: https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html


@dataclass(frozen=True)
class StorageCase:
    """Object `key` in the conformance bucket was `kind` ("created" | "deleted") at `time`."""

    name: str
    kind: str
    key: str
    size: int | None
    time: datetime
    etag: str = "9b2cf535f27731c974343645a3985328"
    content_type: str = "application/octet-stream"
    version: str = "1700000000000001"
    bucket: str = BUCKET
    trigger: str = "storage"

    def expected_seen(self) -> list[dict[str, Any]]:
        return [
            {
                "fn": STORAGE_FUNCTION if self.kind == "created" else DELETE_FUNCTION,
                "kind": self.kind,
                "bucket": self.bucket,
                "key": self.key,
                "size": self.size,
            }
        ]

    def check(self, outcome: Outcome, target: Target) -> list[str]:
        """What differs between `outcome` and this case's expectations ([] = pass)."""
        expected = self.expected_seen()
        seen = [dict(entry) for entry in outcome.seen]
        if self.kind == "deleted":
            for entry in expected + seen:
                entry.pop("size", None)
        return differences("seen", expected, seen) + differences("failed", [], outcome.failed)


_T = datetime(2026, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


def _created(name: str, key: str, size: int) -> StorageCase:
    return StorageCase(f"created-{name}", "created", key, size, _T)


def _deleted(name: str, key: str) -> StorageCase:
    return StorageCase(f"deleted-{name}", "deleted", key, None, _T)


CASES: list[StorageCase] = [
    _created("plain", "report.csv", 1024),
    _created("spaces", "monthly report 2026.pdf", 2048),
    _created("plus", "a+b=c.txt", 17),
    _created("plus-and-spaces", "q1 + q2/sum + total.txt", 99),
    _created("percent", "100% done/%2B literally.txt", 5),
    _created("unicode", "fotos/Zürich 東京 ✓.jpg", 123456),
    _created("slashes", "deep/a/b/c/d/e/data.json", 3),
    _created("reserved-characters", "q?x=1&y=2#frag;v,w:z@host~(1)!'*.txt", 42),
    # the longest key every cloud takes: 1024 bytes of UTF-8 (S3, Cloud Storage; Azure 1024 chars)
    _created("longest-key", "long/" + "ü" * 509 + "x", 7),
    _created("zero-byte", "empty/marker", 0),
    _created("large", "backups/huge.tar", LARGEST_S3_OBJECT),
    _deleted("plain", "report.csv"),
    _deleted("spaces", "old reports/jan 2026.pdf"),
    _deleted("plus", "c++/main+test.cpp"),
    _deleted("unicode", "fotos/Zürich 東京 ✓.jpg"),
    _deleted("percent-and-slashes", "archive/2026/50%/a+b c.log"),
]
