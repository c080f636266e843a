"""Each cloud SDK with its network stubbed: a canned answer shaped like the service's REST or gRPC
reference stands where the socket would be, so the SDK's own work (building the request,
signing, retry bookkeeping, parsing the answer) runs as in production. The resource benchmarks
time the same SDK calls made directly and through polyfn's handles on these clients.

- AWS (boto3): a ``before-send`` hook answers each operation (bench/resources.py).
- Azure: an azure-core ``transport=`` answering Blob, Queue and Table requests.
- Google Cloud Storage: an ``_http=`` session (the requests.Session the client would use).
- Pub/Sub and Firestore: a gRPC channel whose methods answer at once with the response
  messages (the transports take ``channel=``).
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any
from urllib.parse import urlsplit

from _common import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conformance.resource_harnesses import CannedTransport

__all__ = ["azure_services", "firestore_client", "gcs_client", "publisher_client"]

AZURITE = "UseDevelopmentStorage=true"
_HTTP_DATE = "Thu, 03 Dec 2026 09:00:00 GMT"
_ETAG = "W/\"datetime'2026-12-03T09%3A00%3A00Z'\""


def _requests_response(url: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    import requests

    response = requests.Response()
    response.status_code = status
    response.reason = "OK"
    response.headers.update(headers)
    response._content = body
    response.raw = io.BytesIO(body)
    response.url = url
    return response


class AzureTransport(CannedTransport):
    """An azure-core HttpTransport answering, as the Storage REST reference shows: Get Blob
    (206 with the range), Put Blob (201), Put Message (201, QueueMessagesList XML), Query Entity
    (200, JSON with odata.etag) and Update Entity (204, ETag)."""

    def send(self, request: Any, **kwargs: Any) -> Any:
        from azure.core.rest._requests_basic import RestRequestsTransportResponse

        status, headers, body = self._answer(request.method, urlsplit(request.url))
        headers.setdefault("x-ms-request-id", "r-1")
        headers.setdefault("x-ms-version", "2025-01-05")
        headers.setdefault("Date", _HTTP_DATE)
        inner = _requests_response(request.url, status, headers, body)
        return RestRequestsTransportResponse(  # type: ignore[no-untyped-call]
            request=request, internal_response=inner
        )

    def _answer(self, method: str, url: Any) -> tuple[int, dict[str, str], bytes]:
        port_path = url.path
        if "/messages" in port_path:  # Put Message
            xml = (
                b'<?xml version="1.0" encoding="utf-8"?><QueueMessagesList><QueueMessage>'
                b"<MessageId>m-1</MessageId><InsertionTime>" + _HTTP_DATE.encode()
                + b"</InsertionTime><ExpirationTime>" + _HTTP_DATE.encode()
                + b"</ExpirationTime><PopReceipt>p</PopReceipt><TimeNextVisible>"
                + _HTTP_DATE.encode() + b"</TimeNextVisible></QueueMessage></QueueMessagesList>"
            )  # fmt: skip
            return 201, {"Content-Type": "application/xml"}, xml
        if "(PartitionKey=" in port_path:
            if method == "GET":  # Query Entity
                entity = {
                    "odata.etag": _ETAG,
                    "PartitionKey": "polyfn",
                    "RowKey": "cart-1",
                    "Timestamp": "2026-12-03T09:00:00Z",
                    "json0": '{"n":1,"tags":["a"]}',
                }
                headers = {"Content-Type": "application/json;odata=minimalmetadata", "ETag": _ETAG}
                return 200, headers, json.dumps(entity).encode()
            return 204, {"ETag": _ETAG}, b""  # Update Entity
        if method == "GET":  # Get Blob
            headers = {
                "Content-Length": "5",
                "Content-Range": "bytes 0-4/5",
                "Content-Type": "text/plain",
                "ETag": '"0x1"',
                "Last-Modified": _HTTP_DATE,
                "x-ms-blob-type": "BlockBlob",
            }
            return 206, headers, b"hello"
        if method == "PUT":  # Put Blob
            return 201, {"ETag": '"0x1"', "Last-Modified": _HTTP_DATE}, b""
        raise AssertionError(f"no canned answer for {method} {url.geturl()}")


def azure_services() -> dict[str, Any]:
    """Blob, Queue and Table service clients on Azurite's connection string, stubbed."""
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueServiceClient

    transport = AzureTransport()
    return {
        "blob": BlobServiceClient.from_connection_string(AZURITE, transport=transport),
        "queue": QueueServiceClient.from_connection_string(AZURITE, transport=transport),
        "table": TableServiceClient.from_connection_string(AZURITE, transport=transport),
    }


# -- Google Cloud ---------------------------------------------------------------------------------


# The checksums Cloud Storage sends with an object's bytes (the library checks them): b"hello".
_HASH = "crc32c=mnG7TA==,md5=XUFAKrxLKna5cZ2REBfFkg=="


class _GcsSession:
    """The requests.Session a storage.Client sends through, answering as the JSON API reference
    shows: media download (the bytes) and multipart upload (the object resource)."""

    is_mtls = False

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if method == "GET":
            import urllib3

            headers = {"Content-Type": "text/plain", "Content-Length": "5", "x-goog-hash": _HASH}
            response = _requests_response(url, 200, headers, b"hello")
            # The download streams from the urllib3 response, as from a socket.
            response.raw = urllib3.HTTPResponse(
                body=io.BytesIO(b"hello"), headers=headers, status=200, preload_content=False
            )
            return response
        resource = {
            "kind": "storage#object",
            "name": "a/b.txt",
            "bucket": "uploads",
            "generation": "1",
            "size": "5",
            "contentType": "text/plain",
            "etag": "CAE=",
        }
        headers = {"Content-Type": "application/json"}
        return _requests_response(url, 200, headers, json.dumps(resource).encode())


def gcs_client() -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project="bench",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        _http=_GcsSession(),
    )


class _Call:
    """What a gRPC unary call returns beside its response (the interceptors read these)."""

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def initial_metadata(self) -> tuple[()]:
        return ()

    def code(self) -> Any:
        import grpc

        return grpc.StatusCode.OK

    def details(self) -> str:
        return ""


class _Unary:
    def __init__(self, answer: bytes, serialize: Any, deserialize: Any) -> None:
        self._answer = answer
        self._serialize = serialize
        self._deserialize = deserialize

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        self._serialize(request)  # the bytes the SDK would send
        return self._deserialize(self._answer)

    def with_call(self, request: Any, **kwargs: Any) -> tuple[Any, _Call]:
        return self(request), _Call()


class _Stream(_Unary):
    def __call__(self, request: Any, **kwargs: Any) -> Any:
        self._serialize(request)
        return iter([self._deserialize(self._answer)])


def _channel_base() -> type:
    import grpc

    return grpc.Channel  # type: ignore[no-any-return]


class FakeChannel(_channel_base()):  # type: ignore[misc]
    """A gRPC channel whose methods answer at once: `answers` maps a method's full name
    (``/google.pubsub.v1.Publisher/Publish``) to the serialised response message."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        self._answers = answers

    def unary_unary(self, method: str, serialize: Any, deserialize: Any, *args: Any,
                    **kwargs: Any) -> _Unary:  # fmt: skip
        return _Unary(self._answers.get(method, b""), serialize, deserialize)

    def unary_stream(self, method: str, serialize: Any, deserialize: Any, *args: Any,
                     **kwargs: Any) -> _Stream:  # fmt: skip
        return _Stream(self._answers.get(method, b""), serialize, deserialize)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"{method}: not stubbed")

        return call

    stream_stream = stream_unary

    def subscribe(self, *args: Any, **kwargs: Any) -> None:
        pass

    def unsubscribe(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeChannel:
        return self

    def __exit__(self, *args: object) -> None:
        pass


def publisher_client(**options: Any) -> Any:
    """A PublisherClient (with `options`) over a channel answering Publish at once."""
    from google.cloud import pubsub_v1
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
    from google.pubsub_v1.types import PublishResponse

    answers = {"/google.pubsub.v1.Publisher/Publish": PublishResponse.serialize(
        PublishResponse(message_ids=["1"])
    )}  # fmt: skip
    transport = PublisherGrpcTransport(channel=FakeChannel(answers))
    return pubsub_v1.PublisherClient(transport=transport, **options)


def firestore_client() -> Any:
    """A Firestore client over a channel answering BatchGetDocuments (the document as polyfn
    stores it), BeginTransaction and Commit at once."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore
    from google.cloud.firestore_v1.services.firestore import FirestoreClient
    from google.cloud.firestore_v1.services.firestore.transports import FirestoreGrpcTransport
    from google.cloud.firestore_v1.types import (
        BatchGetDocumentsResponse,
        BeginTransactionResponse,
        CommitResponse,
        Document,
        Value,
        WriteResult,
    )
    from google.protobuf.timestamp_pb2 import Timestamp

    now = Timestamp(seconds=1_796_288_400)
    name = "projects/bench/databases/(default)/documents/carts/cart-1"
    document = Document(
        name=name,
        fields={
            "json": Value(string_value='{"n":1,"tags":["a"]}'),
            "version": Value(integer_value=3),
        },
        create_time=now,
        update_time=now,
    )
    service = "/google.firestore.v1.Firestore/"
    answers = {
        service + "BatchGetDocuments": BatchGetDocumentsResponse.serialize(
            BatchGetDocumentsResponse(found=document, read_time=now)
        ),
        service + "BeginTransaction": BeginTransactionResponse.serialize(
            BeginTransactionResponse(transaction=b"t-1")
        ),
        service + "Commit": CommitResponse.serialize(
            CommitResponse(write_results=[WriteResult(update_time=now)], commit_time=now)
        ),
    }
    client = firestore.Client(
        project="bench",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
    )
    transport = FirestoreGrpcTransport(channel=FakeChannel(answers))
    client._firestore_api_internal = FirestoreClient(transport=transport)
    return client
