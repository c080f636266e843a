"""Storage: the blob trigger's `azure.functions.InputStream` and Event Grid blob events (in the
Event Grid schema and the CloudEvents schema) -> `StorageEvent`."""

from __future__ import annotations

import contextlib
import urllib.parse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from polyfn import EventError, StorageEvent
from polyfn._values import mapping, optional_int, optional_str, optional_timestamp, required_str
from polyfn_azure._values import attribute

if TYPE_CHECKING:
    from collections.abc import Mapping

BLOB_SOURCE = "azure blob trigger"
EVENT_GRID_SOURCE = "azure event grid (Microsoft.Storage blob event)"

# The blob trigger's metadata: BlobTrigger is "container/blob name", Properties the blob's
# properties (PascalCase, as the storage SDK names them).
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger#metadata
BLOB_PATH = "BlobTrigger"
BLOB_LENGTH = ("ContentLength", "Length")
BLOB_PROPERTIES = {
    "etag": "ETag",
    "content_type": "ContentType",
    "version": "VersionId",
    "time": "LastModified",
}

# Event Grid event types of Blob Storage and the polyfn kind each one is. Blob Storage publishes no
# event for a metadata change, and BlobTierChanged is not an archive notice, so "archived" and
# "metadata_updated" have no Azure counterpart.
# https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage
EVENT_KINDS = {
    "Microsoft.Storage.BlobCreated": "created",
    "Microsoft.Storage.BlobDeleted": "deleted",
}
AZURE_KINDS = tuple(EVENT_KINDS.values())
# data fields of those events (contentLength and eTag only on BlobCreated)
DATA_URL = "url"
DATA_SIZE = "contentLength"
DATA_ETAG = "eTag"
DATA_CONTENT_TYPE = "contentType"
DATA_VERSION = "versionId"
# subject: /blobServices/default/containers/<container>/blobs/<blob name>
SUBJECT_CONTAINER = "/blobServices/default/containers/"
SUBJECT_BLOBS = "/blobs/"


def blob_event(container: str | None, stream: Any) -> StorageEvent:
    """A "created" StorageEvent from the blob trigger (it fires for new and updated blobs);
    `container` is the one the function is bound to (None: the one the blob's path names)."""
    path = required_str(attribute(stream, "name", BLOB_PATH, BLOB_SOURCE), BLOB_PATH, BLOB_SOURCE)
    head, sep, key = path.partition("/")
    if not sep or not key:
        raise EventError(
            f"{BLOB_PATH} {path!r:.80} is not 'container/blob name'",
            field=BLOB_PATH,
            source=BLOB_SOURCE,
        )
    if container is None:
        container = head
    elif head != container:
        raise EventError(
            f"blob {path!r:.80} is in container {head!r}, this function is bound to {container!r}",
            field=BLOB_PATH,
            source=BLOB_SOURCE,
        )
    props = attribute(stream, "blob_properties", "Properties", BLOB_SOURCE) or {}
    if not isinstance(props, dict):
        props = {}
    # InputStream.length reads ``ContentLength or Length`` and so turns a zero-byte blob's 0 into
    # None (azure-functions blob.py); the properties themselves say 0.
    length = next((props[k] for k in BLOB_LENGTH if props.get(k) is not None), None)
    if length is None:
        length = attribute(stream, "length", "Properties.ContentLength", BLOB_SOURCE)
    size = optional_int(length, "Properties.ContentLength", BLOB_SOURCE, minimum=0)
    found = {name: _loose_string(props.get(key_)) for name, key_ in BLOB_PROPERTIES.items()}
    time = None
    if found["time"]:
        # Optional metadata: a value of another shape is left out rather than failing the blob.
        with contextlib.suppress(EventError):
            time = optional_timestamp(found["time"], "Properties.LastModified", BLOB_SOURCE)
    return StorageEvent(
        "created",
        container,
        key,
        # Without LastModified the trigger time stands in; the blob changed just before it.
        time=time or datetime.now(UTC),
        size=size,
        etag=found["etag"],
        content_type=found["content_type"],
        version=found["version"],
        raw=stream,
    )


def _loose_string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def split_subject(subject: str) -> tuple[str, str]:
    """(container, blob name) of ``/blobServices/default/containers/C/blobs/N``."""
    if not subject.startswith(SUBJECT_CONTAINER):
        raise EventError(
            f"subject {subject!r:.120} is not {SUBJECT_CONTAINER}<container>{SUBJECT_BLOBS}<name>",
            field="subject",
            source=EVENT_GRID_SOURCE,
        )
    container, sep, name = subject[len(SUBJECT_CONTAINER) :].partition(SUBJECT_BLOBS)
    if not sep or not container or not name:
        raise EventError(
            f"subject {subject!r:.120} names no container and blob",
            field="subject",
            source=EVENT_GRID_SOURCE,
        )
    return container, name


def name_from_url(url: str, container: str) -> str | None:
    """The decoded blob name from the blob URL (``https://acct.blob.core.windows.net/C/N`` or the
    path-style ``http://host/acct/C/N`` of the emulator), or None when the URL does not hold C."""
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:
        return None
    marker = f"/{container}/"
    at = path.find(marker)
    if at < 0:
        return None
    return urllib.parse.unquote(path[at + len(marker) :]) or None


def event_grid_fields(event: Any) -> tuple[str, str, Any, datetime | None, tuple[str, str]]:
    """(event type, subject, data, time, (type field, time field)) of an EventGridEvent (Event
    Grid schema) or a CloudEvent (CloudEvents schema)."""
    if hasattr(event, "event_type"):  # Event Grid schema
        kind = attribute(event, "event_type", "eventType", EVENT_GRID_SOURCE)
        time = attribute(event, "event_time", "eventTime", EVENT_GRID_SOURCE)
        type_field, time_field = "eventType", "eventTime"
    else:  # CloudEvents schema
        kind = attribute(event, "type", "type", EVENT_GRID_SOURCE)
        time = attribute(event, "time", "time", EVENT_GRID_SOURCE)
        type_field, time_field = "type", "time"
    kind = required_str(kind, type_field, EVENT_GRID_SOURCE)
    subject = required_str(
        attribute(event, "subject", "subject", EVENT_GRID_SOURCE),
        "subject",
        EVENT_GRID_SOURCE,
    )
    data = attribute(event, "get_json", "data", EVENT_GRID_SOURCE)()
    fields = (type_field, time_field)
    return kind, subject, data, optional_timestamp(time, time_field, EVENT_GRID_SOURCE), fields


def event_grid_event(event: Any) -> StorageEvent:
    """A StorageEvent from a Microsoft.Storage.BlobCreated/BlobDeleted event (either schema)."""
    kind_name, subject, data, time, (type_field, time_field) = event_grid_fields(event)
    kind = EVENT_KINDS.get(kind_name)
    if kind is None:
        raise EventError(
            f"event type {kind_name!r:.80} is not a blob event polyfn serves "
            f"(expected {', '.join(EVENT_KINDS)})",
            field=type_field,
            source=EVENT_GRID_SOURCE,
        )
    if time is None:
        raise EventError("the event has no time", field=time_field, source=EVENT_GRID_SOURCE)
    container, subject_name = split_subject(subject)
    fields: Mapping[str, Any] = mapping(data, "data", EVENT_GRID_SOURCE)
    url = optional_str(fields.get(DATA_URL), f"data.{DATA_URL}", EVENT_GRID_SOURCE)
    name = (name_from_url(url, container) if url else None) or subject_name
    return StorageEvent(
        kind,
        container,
        name,
        time=time,
        size=optional_int(fields.get(DATA_SIZE), f"data.{DATA_SIZE}", EVENT_GRID_SOURCE, minimum=0),
        etag=optional_str(fields.get(DATA_ETAG), f"data.{DATA_ETAG}", EVENT_GRID_SOURCE),
        content_type=optional_str(
            fields.get(DATA_CONTENT_TYPE), f"data.{DATA_CONTENT_TYPE}", EVENT_GRID_SOURCE
        ),
        version=optional_str(fields.get(DATA_VERSION), f"data.{DATA_VERSION}", EVENT_GRID_SOURCE),
        raw=event,
    )
