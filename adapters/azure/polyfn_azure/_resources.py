"""Resources on Azure: Blob Storage, Storage queues, Service Bus, Table Storage and Key Vault.

polyfn's handles reach this backend when they run on Azure Functions. Each Azure SDK is imported on
first use and each client is created once per process and reused by warm invocations (Microsoft's
advice: https://learn.microsoft.com/azure/azure-functions/manage-connections#static-clients).

Connections follow the Functions host's own conventions, so the app settings that already feed the
triggers feed the handles too
(https://learn.microsoft.com/azure/azure-functions/functions-reference#connections):
- Storage (blobs, queues, tables): ``AzureWebJobsStorage`` as a connection string (Azurite's
  included), or identity-based: ``AzureWebJobsStorage__accountName`` (or the per-service
  ``__blobServiceUri``, ``__queueServiceUri``, ``__tableServiceUri``) with the app's managed
  identity through azure-identity's DefaultAzureCredential.
- Service Bus: ``ServiceBusConnection`` as a connection string, or
  ``ServiceBusConnection__fullyQualifiedNamespace`` with the managed identity.
- Key Vault: ``POLYFN_KEYVAULT_URL`` (``https://NAME.vault.azure.net``), or a secret's physical
  name given as its full URI.

Mapping, per kind:
- Bucket: a blob container; keys are blob names, sent as they are.
- Queue: a Storage queue; a ``fifo`` queue is a Service Bus queue with sessions (``group`` is the
  session id), as polyfn_azure binds fifo queues. On a Storage queue the wire form is base64 of
  the bytes, as the Functions host expects by default (``messageEncoding: base64``); a message
  with attributes travels in polyfn's envelope (see `polyfn_azure._queue`), which the queue
  trigger unwraps. On Service Bus the body is the bytes and attributes are application properties.
- Topic: a Service Bus topic; every subscription gets each message. Chosen over Event Grid because
  its messages keep the queue semantics polyfn promises (bytes bodies, properties, delivery counts,
  dead-lettering, sessions) and subscribers read them with the Service Bus trigger the adapter
  already uses for fifo queues; Event Grid gives up after its retry schedule and carries JSON.
- Table: a table of Table Storage; RowKey is the key (escaped: Table Storage forbids ``/``, ``\\``,
  ``#``, ``?`` and control characters in keys), PartitionKey is fixed, the document is JSON text in
  string properties (each at most 64 KiB), and the entity's ETag is the version, checked by the
  service (If-Match) for ``if_version``.
- Secret: a Key Vault secret's current version.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from polyfn._context import TRACEPARENT
from polyfn._resources import (
    AccessDenied,
    Conflict,
    LazyClient,
    NotFound,
    ObjectInfo,
    ResourceError,
    broken_rule,
    env_name,
    imported,
    refuse_name,
)
from polyfn_azure._queue import wrap_message

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from polyfn._resources import OutgoingMessage

STORAGE_SETTING = "AzureWebJobsStorage"
SERVICE_BUS_SETTING = "ServiceBusConnection"
KEYVAULT_SETTING = "POLYFN_KEYVAULT_URL"

# A Storage queue message is at most 64 KiB as stored; the base64 the host expects makes 4 bytes
# of every 3, so 48 KiB of raw bytes fit.
# https://learn.microsoft.com/rest/api/storageservices/put-message
STORAGE_QUEUE_MAX = 65536
# Service Bus: 256 KB per message on the Standard tier (100 MB on Premium).
# https://learn.microsoft.com/azure/service-bus-messaging/service-bus-quotas
SERVICE_BUS_MAX = 262144
# Service Bus can schedule a message for later: ScheduledEnqueueTimeUtc.
# Storage queues: a visibility timeout of up to 7 days on Put Message.
STORAGE_QUEUE_DELAY_MAX = 7 * 24 * 3600

# Table Storage: a string property holds at most 64 KiB (32 K UTF-16 code units); an entity at
# most 1 MiB; PartitionKey/RowKey cannot hold / \ # ? or control characters.
# https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model
TABLE_STRING_MAX_CHARS = 32_000
TABLE_ENTITY_MAX = 1_048_576
TABLE_PARTITION = "polyfn"
_ROW_KEY_UNSAFE = frozenset("/\\#?%") | frozenset(
    chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))
)
_ROW_KEY_UNSAFE_SEARCH = re.compile(
    "[" + "".join(re.escape(c) for c in sorted(_ROW_KEY_UNSAFE)) + "]"
).search
# The document as compact JSON text (json.dumps with these options, without rebuilding an encoder
# per call).
_ENCODE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# Blob user metadata names must be valid C# identifiers (letters, digits, underscore; not starting
# with a digit). https://learn.microsoft.com/rest/api/storageservices/setting-and-retrieving-properties-and-metadata-for-blob-resources


# -- names ---------------------------------------------------------------------------------------
# Each Azure name rule as (what the rule says, a test the name passes); the builder refuses a
# `uses=` entry whose name breaks one.


# Blob containers and Storage queues: 3-63 lowercase letters, digits and single hyphens, starting
# and ending with a letter or digit.
# https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata#container-names
# https://learn.microsoft.com/rest/api/storageservices/naming-queues-and-metadata#queue-names
def _storage_name_rules(what: str) -> tuple[tuple[str, Callable[[str], bool]], ...]:
    return (
        (f"{what} names are 3 to 63 characters long", lambda n: 3 <= len(n) <= 63),
        (
            f"{what} names hold only lowercase letters, digits and hyphens (-), start and end "
            "with a letter or digit, with no two hyphens in a row",
            lambda n: re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) is not None,
        ),
    )


BUCKET_NAME_RULES = _storage_name_rules("Blob container")
QUEUE_NAME_RULES = _storage_name_rules("Storage queue")

# Service Bus queues and topics: 1-260 characters of letters, digits, ".", "-", "_", "/",
# starting and ending with a letter or digit.
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftservicebus
TOPIC_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "Service Bus entity names hold 1 to 260 letters, digits, periods, hyphens and "
        "underscores, starting and ending with a letter or digit",
        lambda n: (
            len(n) <= 260
            and re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", n) is not None
        ),
    ),
)

# Table Storage: 3-63 letters and digits, starting with a letter.
# https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#table-names
TABLE_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "Table Storage table names are 3 to 63 letters and digits, starting with a letter",
        lambda n: re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,62}", n) is not None,
    ),
)

# Key Vault secret names: 1-127 letters, digits and hyphens.
# https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#objects-identifiers-and-versioning
SECRET_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "Key Vault secret names hold 1 to 127 letters, digits and hyphens (-)",
        lambda n: re.fullmatch(r"[A-Za-z0-9-]{1,127}", n) is not None,
    ),
)

NAME_RULES: dict[str, tuple[tuple[str, Callable[[str], bool]], ...]] = {
    "bucket": BUCKET_NAME_RULES,
    "queue": QUEUE_NAME_RULES,
    "topic": TOPIC_NAME_RULES,
    "table": TABLE_NAME_RULES,
    "secret": SECRET_NAME_RULES,
}


def broken_name_rule(kind: str, name: str, *, service_bus: bool = False) -> str | None:
    """The first Azure naming rule `name` breaks as a `kind`'s name (a queue on Service Bus
    follows Service Bus's rules), or None."""
    rules = TOPIC_NAME_RULES if kind == "queue" and service_bus else NAME_RULES[kind]
    return broken_rule(rules, name)


def _sdk_errors() -> tuple[type[Exception], ...]:
    from azure.core.exceptions import AzureError

    return (AzureError,)


def _error(exc: Exception, what: str, resource: str, operation: str, hint: str = "") -> Exception:
    """The neutral error for an azure-core exception (its status code tells the kind)."""
    from azure.core import exceptions as aexc

    suffix = f"; {hint}" if hint else ""
    status = getattr(exc, "status_code", None)
    if isinstance(exc, aexc.ResourceNotFoundError) or status == 404:
        return NotFound(f"{what}: not found{suffix}", resource=resource, operation=operation)
    if isinstance(exc, aexc.ClientAuthenticationError) or status in (401, 403):
        return AccessDenied(
            f"{what}: access denied by Azure; give the function app's identity the data role "
            "this operation needs",
            resource=resource,
            operation=operation,
        )
    if isinstance(exc, aexc.ResourceExistsError | aexc.ResourceModifiedError) or status in (
        409,
        412,
    ):
        return Conflict(f"{what}: {_message(exc)}", resource=resource, operation=operation)
    return ResourceError(f"{what}: {_message(exc)}", resource=resource, operation=operation)


def _message(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return str(text).splitlines()[0] if text else type(exc).__name__


def _hint(kind: str, physical: str) -> str:
    return (
        f"check that {kind} {physical!r} exists and that the app setting "
        f"{env_name(kind, '...')[:-3]}<NAME> names it (polyfn build sets it)"
    )


def _credential() -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _storage_client(service: str) -> Callable[[], Any]:
    """A factory of the Blob, Queue or Table service client from the host's storage settings."""

    def make() -> Any:
        connection = os.environ.get(STORAGE_SETTING)
        cls = _service_class(service)
        if connection:
            return cls.from_connection_string(connection)
        uri = os.environ.get(f"{STORAGE_SETTING}__{service}ServiceUri")
        account = os.environ.get(f"{STORAGE_SETTING}__accountName")
        if not uri and account:
            uri = f"https://{account}.{service}.core.windows.net"
        if not uri:
            raise ResourceError(
                f"azure: no storage account configured: set the app setting {STORAGE_SETTING} "
                f"(a connection string) or {STORAGE_SETTING}__accountName (managed identity)"
            )
        return cls(uri, credential=_credential())

    return make


def _service_class(service: str) -> Any:
    if service == "blob":
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient
    if service == "queue":
        from azure.storage.queue import QueueServiceClient

        return QueueServiceClient
    from azure.data.tables import TableServiceClient

    return TableServiceClient


# -- Blob Storage --------------------------------------------------------------------------------


def _check_metadata(metadata: dict[str, str], container: str) -> None:
    for key in metadata:
        if not key.isidentifier() or not key.isascii():
            raise ResourceError(
                f"bucket {container!r}: metadata name {key!r} is not allowed by Blob Storage "
                "(names must be C# identifiers: ASCII letters, digits and '_', not starting "
                "with a digit)",
                resource=f"bucket:{container}",
                operation="write",
            )


class BlobContainer:
    def __init__(self, clients: LazyClient, name: str) -> None:
        self._clients = clients
        self.name = name
        self._resource = f"bucket:{name}"
        self._client: Any = None

    def _container(self) -> Any:
        # One ContainerClient per container, made once: the SDK builds a whole pipeline per
        # get_container_client call (two threads racing here make one client each, both good).
        if self._client is None:
            self._client = self._clients.get().get_container_client(self.name)
        return self._client

    def _fail(self, exc: Exception, operation: str, key: str | None = None) -> Exception:
        what = f"bucket {self.name!r} {operation}" + (f" {key!r}" if key is not None else "")
        return _error(exc, what, self._resource, operation, _hint("bucket", self.name))

    def read(self, key: str) -> bytes:
        try:
            data: bytes = self._container().download_blob(key).readall()
        except _sdk_errors() as exc:
            raise self._fail(exc, "read", key) from exc
        return data

    def write(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> None:
        if metadata:
            _check_metadata(metadata, self.name)
        try:
            self._container().upload_blob(
                key,
                data,
                overwrite=True,
                metadata=metadata or None,
                content_settings=imported("azure.storage.blob", "ContentSettings")(
                    content_type=content_type or "application/octet-stream"
                ),
            )
        except _sdk_errors() as exc:
            raise self._fail(exc, "write", key) from exc

    def delete(self, key: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._container().delete_blob(key)
        except ResourceNotFoundError:
            return  # deleting a missing object is not an error (as on S3)
        except _sdk_errors() as exc:
            raise self._fail(exc, "delete", key) from exc

    def info(self, key: str) -> ObjectInfo | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            props = self._container().get_blob_client(key).get_blob_properties()
        except ResourceNotFoundError:
            return None
        except _sdk_errors() as exc:
            raise self._fail(exc, "info", key) from exc
        return _object_info(props)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        # The pager follows the continuation marker page by page (5,000 blobs a page).
        try:
            for props in self._container().list_blobs(
                name_starts_with=prefix or None, include=["metadata"]
            ):
                yield _object_info(props)
        except _sdk_errors() as exc:
            raise self._fail(exc, "list") from exc

    def signed_url(self, key: str, method: str, expires: timedelta) -> str:
        # A service SAS signed with the account key when the connection string has one; with a
        # managed identity, a user delegation SAS (the identity needs
        # Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey).
        # https://learn.microsoft.com/azure/storage/common/storage-sas-overview
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        service = self._clients.get()
        blob = service.get_blob_client(self.name, key)
        start = datetime.now(UTC) - timedelta(minutes=5)  # clock skew between client and service
        expiry = datetime.now(UTC) + expires
        permission = (
            BlobSasPermissions(read=True)
            if method == "GET"
            else BlobSasPermissions(create=True, write=True)
        )
        credential = service.credential
        try:
            if getattr(credential, "account_key", None):
                sas = generate_blob_sas(
                    service.account_name,
                    self.name,
                    key,
                    account_key=credential.account_key,
                    permission=permission,
                    expiry=expiry,
                    start=start,
                )
            else:
                delegation = service.get_user_delegation_key(start, expiry)
                sas = generate_blob_sas(
                    service.account_name,
                    self.name,
                    key,
                    user_delegation_key=delegation,
                    permission=permission,
                    expiry=expiry,
                    start=start,
                )
        except _sdk_errors() as exc:
            raise self._fail(exc, "signed_url", key) from exc
        return f"{blob.url}?{sas}"


def _object_info(props: Any) -> ObjectInfo:
    settings = props.content_settings
    return ObjectInfo(
        props.name,
        size=int(props.size or 0),
        etag=props.etag,
        content_type=settings.content_type if settings is not None else None,
        updated=props.last_modified,
        metadata=props.metadata or {},
    )


# -- Storage queues and Service Bus --------------------------------------------------------------


def _check_size(size: int, limit: int, what: str, resource: str, where: str) -> None:
    if size > limit:
        raise ResourceError(
            f"{what}: the message is {size} bytes on the wire; {where} takes at most {limit}: "
            "store the payload in a bucket and send its key",
            resource=resource,
            operation="send",
        )


class StorageQueue:
    def __init__(self, clients: LazyClient, name: str) -> None:
        self._clients = clients
        self.name = name
        self._resource = f"queue:{name}"
        self._client: Any = None

    def _queue(self) -> Any:
        if self._client is None:
            from azure.storage.queue import BinaryBase64EncodePolicy

            self._client = self._clients.get().get_queue_client(
                self.name, message_encode_policy=BinaryBase64EncodePolicy()
            )
        return self._client

    def send(self, message: OutgoingMessage) -> str:
        what = f"queue {self.name!r} send"
        if message.group is not None:
            raise ResourceError(
                f"{what}: Storage queues keep no order or groups; declare the queue fifo "
                "(Queue(name, fifo=True)) to use Service Bus sessions",
                resource=self._resource,
                operation="send",
            )
        if message.delay is not None and message.delay > STORAGE_QUEUE_DELAY_MAX:
            raise ResourceError(
                f"{what}: delay {message.delay} s exceeds a Storage queue's 7 days",
                resource=self._resource,
                operation="send",
            )
        attributes = message.attributes
        if attributes.keys() == {TRACEPARENT}:
            # A message with no attributes of the user's is exactly its bytes, which every other
            # consumer of the queue reads; the trace context alone does not wrap it in polyfn's
            # envelope (it travels with the user's attributes, and on Service Bus always).
            attributes = {}
        payload = wrap_message(message.body, attributes)
        encoded = (len(payload) + 2) // 3 * 4
        _check_size(encoded, STORAGE_QUEUE_MAX, what, self._resource, "a Storage queue")
        try:
            sent = self._queue().send_message(payload, visibility_timeout=message.delay or None)
        except _sdk_errors() as exc:
            raise _error(exc, what, self._resource, "send", _hint("queue", self.name)) from exc
        return str(sent.id)

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[str | ResourceError]:
        # Storage queues have no batch send: one request each, each outcome reported.
        outcomes: list[str | ResourceError] = []
        for message in messages:
            try:
                outcomes.append(self.send(message))
            except ResourceError as exc:
                outcomes.append(exc)
        return outcomes


def _service_bus_client() -> Any:
    from azure.servicebus import ServiceBusClient

    connection = os.environ.get(SERVICE_BUS_SETTING)
    if connection:
        return ServiceBusClient.from_connection_string(connection)
    namespace = os.environ.get(f"{SERVICE_BUS_SETTING}__fullyQualifiedNamespace")
    if not namespace:
        raise ResourceError(
            f"azure: no Service Bus namespace configured: set the app setting "
            f"{SERVICE_BUS_SETTING} (a connection string) or "
            f"{SERVICE_BUS_SETTING}__fullyQualifiedNamespace (managed identity)"
        )
    return ServiceBusClient(namespace, credential=_credential())


def to_service_bus_message(message: OutgoingMessage) -> Any:
    """The azure-servicebus message for a neutral one: body bytes, attributes as application
    properties, group as the session id, delay as the scheduled enqueue time."""
    from azure.servicebus import ServiceBusMessage

    scheduled = datetime.now(UTC) + timedelta(seconds=message.delay) if message.delay else None
    return ServiceBusMessage(
        message.body,
        application_properties=dict(message.attributes) or None,  # type: ignore[arg-type]
        session_id=message.group,
        scheduled_enqueue_time_utc=scheduled,
    )


class ServiceBusEntity:
    """A Service Bus queue (fifo polyfn queues) or topic: one sender per entity per process."""

    def __init__(self, clients: LazyClient, kind: str, name: str, sessions: bool) -> None:
        self._clients = clients
        self.kind = kind
        self.name = name
        self.sessions = sessions
        self._resource = f"{kind}:{name}"
        self._sender: Any = None
        self._lock = threading.Lock()

    def _get_sender(self) -> Any:
        with self._lock:
            if self._sender is None:
                client = self._clients.get()
                self._sender = (
                    client.get_queue_sender(self.name)
                    if self.kind == "queue"
                    else client.get_topic_sender(self.name)
                )
            return self._sender

    def _build(self, message: OutgoingMessage) -> Any:
        what = f"{self.kind} {self.name!r} send"
        if self.sessions and not message.group:
            raise ResourceError(
                f"{what}: a fifo queue needs group= (its Service Bus session)",
                resource=self._resource,
                operation="send",
            )
        size = len(message.body) + sum(len(k) + len(v) for k, v in message.attributes.items())
        _check_size(size, SERVICE_BUS_MAX, what, self._resource, "Service Bus (Standard)")
        return to_service_bus_message(message)

    def _send(self, payload: Any) -> None:
        from azure.servicebus.exceptions import ServiceBusError

        try:
            self._get_sender().send_messages(payload)
        except (ServiceBusError, *_sdk_errors()) as exc:  # type: ignore[misc]
            raise _error(
                exc, f"{self.kind} {self.name!r} send", self._resource, "send",
                _hint(self.kind, self.name),
            ) from exc  # fmt: skip

    def send(self, message: OutgoingMessage) -> str:
        built = self._build(message)
        self._send(built)
        return str(built.message_id)

    def publish(self, message: OutgoingMessage) -> str:
        return self.send(message)

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[str | ResourceError]:
        outcomes: list[str | ResourceError] = []
        built: list[tuple[int, Any]] = []
        for index, message in enumerate(messages):
            try:
                built.append((index, self._build(message)))
                outcomes.append("")
            except ResourceError as exc:
                outcomes.append(exc)
        if built:
            try:
                # One request: Service Bus sends a list atomically (all or none).
                self._send([payload for _, payload in built])
                for index, payload in built:
                    outcomes[index] = str(payload.message_id)
            except ResourceError as exc:
                for index, _ in built:
                    outcomes[index] = exc
        return outcomes


# -- Table Storage -------------------------------------------------------------------------------


def row_key(key: str) -> str:
    """A RowKey for a table key: the characters Table Storage forbids, and ``%``, percent-encoded
    (reversibly: `unquote` gives the key back)."""
    if _ROW_KEY_UNSAFE_SEARCH(key) is None:
        return key  # most keys: nothing to escape, and a regex search beats a walk per character
    return "".join(quote(c, safe="") if c in _ROW_KEY_UNSAFE else c for c in key)


def _replace() -> Any:
    return imported("azure.data.tables", "UpdateMode").REPLACE


def _if_not_modified() -> Any:
    return imported("azure.core", "MatchConditions").IfNotModified


def _entity_missing(exc: Exception) -> bool:
    """Whether `exc` says the entity is absent (ResourceNotFound), not the table."""
    from azure.core.exceptions import ResourceNotFoundError

    if not isinstance(exc, ResourceNotFoundError):
        return False
    code = getattr(exc, "error_code", None)
    return getattr(code, "value", code) != "TableNotFound"


def key_of(row: str) -> str:
    return unquote(row)


class StorageTable:
    def __init__(self, clients: LazyClient, name: str) -> None:
        self._clients = clients
        self.name = name
        self._resource = f"table:{name}"
        self._client: Any = None

    def _table(self) -> Any:
        # One TableClient per table, made once (as BlobContainer._container).
        if self._client is None:
            self._client = self._clients.get().get_table_client(self.name)
        return self._client

    def _fail(self, exc: Exception, operation: str, key: str) -> Exception:
        return _error(
            exc,
            f"table {self.name!r} {operation} {key!r}",
            self._resource,
            operation,
            _hint("table", self.name),
        )

    def get(self, key: str) -> tuple[dict[str, Any], str] | None:
        try:
            entity = self._table().get_entity(TABLE_PARTITION, row_key(key))
        except _sdk_errors() as exc:
            if _entity_missing(exc):
                return None  # ResourceNotFound: the table is there, the entity is not
            raise self._fail(exc, "get", key) from exc
        return _document(entity, self.name, key), str(entity.metadata["etag"])

    def put(self, key: str, fields: dict[str, Any], if_absent: bool, if_version: str | None) -> str:
        entity = _entity(key, fields, self.name)
        table = self._table()
        try:
            if if_absent:
                metadata = table.create_entity(entity)
            elif if_version is not None:
                metadata = table.update_entity(
                    entity,
                    mode=_replace(),
                    etag=if_version,
                    match_condition=_if_not_modified(),
                )
            else:
                metadata = table.upsert_entity(entity, mode=_replace())
        except _sdk_errors() as exc:
            error = self._fail(exc, "put", key)
            if if_version is not None and isinstance(error, NotFound):
                # Replacing a document that is gone: the version no longer matches.
                error = Conflict(
                    f"table {self.name!r} put {key!r}: no document (if_version)",
                    resource=self._resource,
                    operation="put",
                )
            raise error from exc
        return str(metadata["etag"])

    def delete(self, key: str, if_version: str | None) -> None:
        try:
            if if_version is None:
                self._table().delete_entity(TABLE_PARTITION, row_key(key))
            else:
                self._table().delete_entity(
                    TABLE_PARTITION,
                    row_key(key),
                    etag=if_version,
                    match_condition=_if_not_modified(),
                )
        except _sdk_errors() as exc:
            error = self._fail(exc, "delete", key)
            if if_version is not None and isinstance(error, NotFound):
                error = Conflict(
                    f"table {self.name!r} delete {key!r}: no document (if_version)",
                    resource=self._resource,
                    operation="delete",
                )
            raise error from exc


def _entity(key: str, fields: dict[str, Any], table: str) -> dict[str, Any]:
    text = _ENCODE_JSON(fields)
    # A UTF-8 byte count is at most 4 per character: short documents skip the encoding.
    if len(text) * 8 > TABLE_ENTITY_MAX - 4096 and len(text.encode()) * 2 > TABLE_ENTITY_MAX - 4096:
        raise ResourceError(
            f"table {table!r} put {key!r}: the document is too large for a Table Storage entity "
            f"({TABLE_ENTITY_MAX} bytes, UTF-16)",
            resource=f"table:{table}",
            operation="put",
        )
    entity: dict[str, Any] = {"PartitionKey": TABLE_PARTITION, "RowKey": row_key(key)}
    if len(text) <= TABLE_STRING_MAX_CHARS:
        entity["json0"] = text
        return entity
    chunks = [
        text[i : i + TABLE_STRING_MAX_CHARS] for i in range(0, len(text), TABLE_STRING_MAX_CHARS)
    ]
    for index, chunk in enumerate(chunks or [""]):
        entity[f"json{index}"] = chunk
    return entity


def _document(entity: Any, table: str, key: str) -> dict[str, Any]:
    if "json1" not in entity:  # one property holds most documents
        text = str(entity.get("json0", ""))
    else:
        parts: list[str] = []
        index = 0
        while f"json{index}" in entity:
            parts.append(str(entity[f"json{index}"]))
            index += 1
        text = "".join(parts)
    try:
        fields = json.loads(text)
    except ValueError as exc:
        raise ResourceError(
            f"table {table!r} get {key!r}: the entity was not written by polyfn "
            "(expected JSON in properties json0, json1, ...)",
            resource=f"table:{table}",
            operation="get",
        ) from exc
    if not isinstance(fields, dict):
        raise ResourceError(
            f"table {table!r} get {key!r}: the stored JSON is not an object",
            resource=f"table:{table}",
            operation="get",
        )
    return fields


# -- Key Vault -----------------------------------------------------------------------------------


class KeyVaultSecret:
    def __init__(self, clients: dict[str, Any], lock: threading.Lock, name: str) -> None:
        self._clients = clients
        self._lock = lock
        self.name = name

    def _where(self) -> tuple[str, str]:
        # A full secret URI (https://NAME.vault.azure.net/secrets/SECRET[/VERSION]) names its
        # vault; a bare name reads from POLYFN_KEYVAULT_URL.
        if self.name.startswith("https://"):
            vault, _, rest = self.name.partition("/secrets/")
            return vault, rest.split("/")[0]
        vault = os.environ.get(KEYVAULT_SETTING) or ""
        if not vault:
            raise ResourceError(
                f"secret {self.name!r}: no Key Vault configured: set the app setting "
                f"{KEYVAULT_SETTING} (https://NAME.vault.azure.net; polyfn build sets it), or "
                "give the secret's full URI as its physical name",
                resource=f"secret:{self.name}",
                operation="value",
            )
        return vault.rstrip("/"), self.name

    def value(self) -> str:
        from azure.keyvault.secrets import SecretClient

        vault, name = self._where()
        with self._lock:
            client = self._clients.get(vault)
            if client is None:
                client = self._clients[vault] = SecretClient(vault, credential=_credential())
        try:
            secret = client.get_secret(name)
        except _sdk_errors() as exc:
            raise _error(
                exc,
                f"secret {self.name!r} value",
                f"secret:{self.name}",
                "value",
                _hint("secret", self.name),
            ) from exc
        if secret.value is None:
            raise NotFound(f"secret {self.name!r} has no value", resource=f"secret:{self.name}")
        return str(secret.value)


# -- the backend ---------------------------------------------------------------------------------


class AzureBackend:
    """polyfn's resource backend on Azure: one client per service per process."""

    def __init__(self) -> None:
        self._blobs = LazyClient(_storage_client("blob"))
        self._queues = LazyClient(_storage_client("queue"))
        self._tables = LazyClient(_storage_client("table"))
        self._service_bus = LazyClient(_service_bus_client)
        self._vaults: dict[str, Any] = {}
        self._vault_lock = threading.Lock()
        self._entities: dict[tuple[str, str], Any] = {}

    def bucket(self, name: str) -> BlobContainer:
        refuse_name("Azure", "bucket", name, broken_name_rule("bucket", name))
        return BlobContainer(self._blobs, name)

    def queue(self, name: str, fifo: bool) -> StorageQueue | ServiceBusEntity:
        refuse_name("Azure", "queue", name, broken_name_rule("queue", name, service_bus=fifo))
        if fifo:
            return self._entity("queue", name, sessions=True)
        return StorageQueue(self._queues, name)

    def topic(self, name: str) -> ServiceBusEntity:
        refuse_name("Azure", "topic", name, broken_name_rule("topic", name))
        return self._entity("topic", name, sessions=False)

    def _entity(self, kind: str, name: str, sessions: bool) -> ServiceBusEntity:
        found = self._entities.get((kind, name))
        if found is None:
            found = self._entities[(kind, name)] = ServiceBusEntity(
                self._service_bus, kind, name, sessions
            )
        return found

    def table(self, name: str) -> StorageTable:
        refuse_name("Azure", "table", name, broken_name_rule("table", name))
        return StorageTable(self._tables, name)

    def secret(self, name: str) -> KeyVaultSecret:
        if not name.startswith("https://"):  # a full secret URI names its vault too
            refuse_name("Azure", "secret", name, broken_name_rule("secret", name))
        return KeyVaultSecret(self._vaults, self._vault_lock, name)
