"""Cloud Storage object events (CloudEvents from Eventarc, or legacy events that
functions-framework converts) as neutral `StorageEvent`s."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from polyfn import EventError, StorageEvent
from polyfn._values import (
    arrived,
    mapping,
    optional_int,
    optional_str,
    optional_timestamp,
    timestamp,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

# CloudEvent type -> polyfn storage kind.
# https://cloud.google.com/eventarc/docs/reference/supported-events#cloud-storage
# Legacy events ("google.storage.object.finalize" ...) arrive already converted to these types by
# functions-framework (event_conversion._BACKGROUND_TO_CE_TYPE), with the legacy data unchanged.
STORAGE_TYPES: dict[str, str] = {
    "google.cloud.storage.object.v1.finalized": "created",
    "google.cloud.storage.object.v1.deleted": "deleted",
    "google.cloud.storage.object.v1.archived": "archived",
    "google.cloud.storage.object.v1.metadataUpdated": "metadata_updated",
}
SOURCE = "Cloud Storage CloudEvent (google.cloud.storage.object.v1.*)"

# The legacy "providers/cloud.storage/eventTypes/object.change" event, which functions-framework
# also converts to ...finalized, fires for every change of an object; its data says which one:
# resourceState "not_exists" for an object deleted (or moved away), "exists" with metageneration 1
# for one created or overwritten, "exists" with a higher metageneration for a metadata update.
# https://cloud.google.com/functions/1stgendocs/calling/storage#legacy_cloud_storage_triggers
# (functions-framework-conformance events/generate/data/legacy_storage_change-legacy-input.json)
LEGACY_CHANGE_STATE = "resourceState"
LEGACY_CHANGE_DELETED = "not_exists"
LEGACY_CHANGE_METAGENERATION = "metageneration"

# source "//storage.googleapis.com/projects/_/buckets/BUCKET", subject "objects/NAME".
# https://cloud.google.com/eventarc/docs/cloudevents#cloud-storage
_BUCKET_SOURCE = re.compile(r"^//storage\.googleapis\.com/projects/[^/]+/buckets/([^/]+)$")
_SUBJECT_PREFIX = "objects/"


def storage_event(attributes: Mapping[str, Any], data: Any, raw: Any = None) -> StorageEvent:
    """The StorageEvent of a Cloud Storage CloudEvent (its attributes and parsed data).

    The data is the object resource (https://cloud.google.com/storage/docs/json_api/v1/objects):
    `size` and `generation` are int64, which JSON carries as decimal strings.
    """
    ce_type = attributes.get("type")
    kind = STORAGE_TYPES.get(ce_type) if isinstance(ce_type, str) else None
    if kind is None:
        raise EventError(
            f"type {ce_type if isinstance(ce_type, str) else arrived(ce_type)!r} is not a Cloud "
            "Storage object event",
            field="type",
            source=SOURCE,
        )
    obj = mapping(data, "data", SOURCE)
    if kind == "created" and obj.get(LEGACY_CHANGE_STATE) is not None:
        kind = _legacy_change_kind(obj)
    bucket = obj.get("bucket")
    if not bucket:
        source = attributes.get("source")
        m = _BUCKET_SOURCE.match(source) if isinstance(source, str) else None
        bucket = m.group(1) if m else None
    if not isinstance(bucket, str) or not bucket:
        raise EventError(
            "the bucket is in neither data.bucket nor the CloudEvent source",
            field="data.bucket",
            source=SOURCE,
        )
    key = obj.get("name")
    if not key:
        subject = attributes.get("subject")
        if isinstance(subject, str) and subject.startswith(_SUBJECT_PREFIX):
            key = subject[len(_SUBJECT_PREFIX) :]
    if not isinstance(key, str) or not key:
        raise EventError(
            "the object name is in neither data.name nor the CloudEvent subject",
            field="data.name",
            source=SOURCE,
        )
    return StorageEvent(
        kind,
        bucket,
        key,
        time=_event_time(attributes, obj),
        size=optional_int(obj.get("size"), "data.size", SOURCE, minimum=0),
        etag=optional_str(obj.get("etag"), "data.etag", SOURCE),
        content_type=optional_str(obj.get("contentType"), "data.contentType", SOURCE),
        version=optional_str(obj.get("generation"), "data.generation", SOURCE),
        raw=raw if raw is not None else {"attributes": dict(attributes), "data": obj},
    )


def _legacy_change_kind(obj: Mapping[str, Any]) -> str:
    """The kind of change a legacy object.change event reports (see LEGACY_CHANGE_STATE)."""
    if obj.get(LEGACY_CHANGE_STATE) == LEGACY_CHANGE_DELETED:
        return "deleted"
    metageneration = optional_int(
        obj.get(LEGACY_CHANGE_METAGENERATION), f"data.{LEGACY_CHANGE_METAGENERATION}", SOURCE
    )
    return "metadata_updated" if metageneration is not None and metageneration > 1 else "created"


def _event_time(attributes: Mapping[str, Any], obj: Mapping[str, Any]) -> datetime:
    """When the change happened: the CloudEvent time, else what the object resource says."""
    if attributes.get("time"):
        return timestamp(attributes["time"], "time", SOURCE)
    for key in ("timeDeleted", "updated", "timeCreated"):
        value = optional_timestamp(obj.get(key), f"data.{key}", SOURCE)
        if value is not None:
            return value
    raise EventError(
        "no time in the CloudEvent nor in data.updated/data.timeCreated",
        field="time",
        source=SOURCE,
    )
