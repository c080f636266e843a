"""A real blob and real queue messages in Azurite, read back the way the Functions host delivers
them (blob trigger metadata, a BlobCreated event, a base64-decoded queue message) and run through
the Azure functions polyfn registered."""

from __future__ import annotations

import base64
import contextlib
import uuid
from typing import Any

import azure.storage.blob as blob_storage
import azure.storage.queue as queue_storage
import pytest
from azure.core.exceptions import ResourceExistsError

from polyfn import QueueMessage, StorageEvent
from tests.azure._host import Host
from tests.azure.conftest import Recorder

pytestmark = pytest.mark.e2e


def test_real_blob_through_blob_trigger_and_event_grid(
    azurite: str, host: Host, rec: Recorder
) -> None:
    service = blob_storage.BlobServiceClient.from_connection_string(azurite)
    container = service.get_container_client("uploads")
    if not container.exists():
        container.create_container()
    name = f"incoming/report {uuid.uuid4().hex[:6]}+final ü.csv"
    content = b"id,total\n1,9.99\n"
    blob = container.get_blob_client(name)
    blob.upload_blob(
        content,
        overwrite=True,
        content_settings=blob_storage.ContentSettings(content_type="text/csv"),
    )
    props = blob.get_blob_properties()

    # The blob trigger: the blob's bytes plus BlobTrigger / Uri / Properties metadata.
    trigger_fixture: dict[str, Any] = {
        "data": {
            "type": "bytes",
            "base64": base64.b64encode(blob.download_blob().readall()).decode(),
        },
        "metadata": {
            "BlobTrigger": {"type": "string", "value": f"uploads/{name}"},
            "Uri": {"type": "string", "value": blob.url},
            "Properties": {
                "type": "json",
                "value": {
                    "ContentType": props.content_settings.content_type,
                    "ETag": props.etag,
                    "LastModified": props.last_modified.isoformat(),
                    "ContentLength": props.size,
                },
            },
        },
    }
    host.call("on_upload", trigger_fixture)
    # Event Grid's BlobCreated for the same blob: the emulator's path-style URL names the account.
    event_fixture = {
        "data": {
            "type": "json",
            "value": {
                "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/"
                "storageAccounts/devstoreaccount1",
                "subject": f"/blobServices/default/containers/uploads/blobs/{name}",
                "eventType": "Microsoft.Storage.BlobCreated",
                "id": str(uuid.uuid4()),
                "eventTime": props.last_modified.isoformat(),
                "dataVersion": "",
                "metadataVersion": "1",
                "data": {
                    "api": "PutBlob",
                    "eTag": props.etag,
                    "contentType": props.content_settings.content_type,
                    "contentLength": props.size,
                    "blobType": "BlockBlob",
                    "url": blob.url,
                },
            },
        },
    }
    host.call("on_change", event_fixture)

    assert [n for n, _ in rec.seen] == ["on_upload", "on_change"]
    for _, event in rec.seen:
        assert isinstance(event, StorageEvent)
        assert (event.kind, event.bucket, event.key) == ("created", "uploads", name)
        assert event.size == len(content)
        assert event.etag == props.etag
        assert event.content_type == "text/csv"
        assert event.time == props.last_modified


@pytest.mark.parametrize(
    ("payload", "policy"),
    [(b'{"order": 42}', "TextBase64EncodePolicy"), (bytes(range(256)), "BinaryBase64EncodePolicy")],
)
def test_real_queue_message_as_the_host_delivers_it(
    azurite: str, host: Host, rec: Recorder, payload: bytes, policy: str
) -> None:
    name = "orders"
    sender = queue_storage.QueueClient.from_connection_string(
        azurite, name, message_encode_policy=getattr(queue_storage, policy)()
    )
    with contextlib.suppress(ResourceExistsError):  # made by an earlier case
        sender.create_queue()
    sent = sender.send_message(payload.decode() if policy.startswith("Text") else payload)
    # The host reads the raw message text and, with messageEncoding "base64" (the default),
    # decodes it before the worker sees the bytes.
    reader = queue_storage.QueueClient.from_connection_string(azurite, name)
    received = [m for m in reader.receive_messages(max_messages=32) if m.id == sent.id]
    assert len(received) == 1
    message = received[0]
    fixture = {
        "data": {"type": "bytes", "base64": message.content},
        "metadata": {
            "Id": {"type": "string", "value": message.id},
            "DequeueCount": {"type": "int", "value": message.dequeue_count},
            "InsertionTime": {"type": "string", "value": message.inserted_on.isoformat()},
            "ExpirationTime": {"type": "string", "value": message.expires_on.isoformat()},
            "PopReceipt": {"type": "string", "value": message.pop_receipt},
        },
    }
    host.call("on_order", fixture)
    reader.delete_message(message)

    ((fn_name, msg),) = rec.seen
    assert fn_name == "on_order"
    assert isinstance(msg, QueueMessage)
    assert msg.id == sent.id
    assert msg.body == payload
    assert msg.delivery_count == 1
    assert msg.enqueued_time == message.inserted_on
