"""Resources on Google Cloud: Cloud Storage, Pub/Sub, Firestore and Secret Manager.

polyfn's handles (`polyfn.Bucket`, `Queue`, `Topic`, `Table`, `Secret`) reach this backend when
they run on GCP. Each Google client library is imported on first use and its client is created
once per process, then reused by every warm invocation (Google's advice for Cloud Run functions:
https://cloud.google.com/run/docs/tips/functions-best-practices#use_global_variables_to_reuse_objects_in_future_invocations).

The clients honour the emulator variables the Cloud SDK documents: ``STORAGE_EMULATOR_HOST``,
``PUBSUB_EMULATOR_HOST`` and ``FIRESTORE_EMULATOR_HOST``; the project comes from
``GOOGLE_CLOUD_PROJECT`` (set by the builder) or Application Default Credentials.

Mapping, per kind:
- Bucket: a Cloud Storage bucket. Keys are object names, sent as they are (the client library
  percent-encodes them in URLs), so a key with spaces, ``+``, ``%`` or ``/`` is the same name that
  the storage CloudEvent's ``name`` carries.
- Queue: a Pub/Sub topic whose single subscription feeds the consumer function. The message
  data is exactly the bytes sent; attributes are Pub/Sub attributes; ``group`` is the ordering
  key. Pub/Sub cannot delay one message, so ``delay=`` is refused.
- Topic: a Pub/Sub topic with one subscription per subscriber.
- Table: a Firestore collection named after the table; a document's id is the key (escaped: a
  Firestore id cannot hold ``/``), its fields ``json`` (the document, as JSON text: Firestore
  cannot store arrays inside arrays or integers beyond 64 bits, and a table must return exactly
  what was put) and ``version`` (a counter). Conditional writes run in a transaction.
- Secret: a Secret Manager secret's ``latest`` version (or the version a full resource name
  names), decoded as UTF-8.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from polyfn._resources import (
    AccessDenied,
    Conflict,
    LazyClient,
    NotFound,
    ObjectInfo,
    ResourceError,
    broken_rule,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import timedelta

    from polyfn._resources import OutgoingMessage

PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"

# Pub/Sub's limits: 10 MB per message (data plus attributes), at most 100 attributes, keys up to
# 256 bytes that do not start with "goog", values up to 1024 bytes.
# https://cloud.google.com/pubsub/quotas#resource_limits
PUBSUB_MESSAGE_MAX = 10_000_000
PUBSUB_ATTRIBUTES_MAX = 100
PUBSUB_ATTRIBUTE_KEY_MAX = 256
PUBSUB_ATTRIBUTE_VALUE_MAX = 1024
PUBSUB_RESERVED_PREFIX = "goog"

# Firestore: a document is at most 1 MiB; a document id is at most 1,500 bytes, cannot contain
# "/", and cannot be "." or ".." or match __.*__.
# https://firebase.google.com/docs/firestore/quotas#collections_documents_and_fields
FIRESTORE_DOCUMENT_MAX = 1_048_576
FIRESTORE_ID_MAX = 1500
# How often a conditional write's transaction is tried when concurrent transactions abort it
# (the library's default is 5; contention aborts are retried with backoff:
# https://cloud.google.com/firestore/docs/transaction-data-contention).
TRANSACTION_ATTEMPTS = 25

# Cloud Storage object names: 1-1024 bytes of UTF-8, no CR or LF.
# https://cloud.google.com/storage/docs/objects#naming
GCS_NAME_MAX = 1024

# -- names ---------------------------------------------------------------------------------------
# Each Google Cloud name rule as (what the rule says, a test the name passes); the builder refuses
# a `uses=` entry whose name breaks one.

# Cloud Storage bucket names (a name without dots: polyfn's buckets are not domain-named).
# https://cloud.google.com/storage/docs/buckets#naming
BUCKET_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Cloud Storage bucket names are 3 to 63 characters long", lambda n: 3 <= len(n) <= 63),
    (
        "Cloud Storage bucket names hold only lowercase letters, digits, hyphens (-), "
        "underscores (_) and dots (.)",
        lambda n: re.fullmatch(r"[a-z0-9._-]+", n) is not None,
    ),
    (
        "Cloud Storage bucket names begin and end with a letter or digit",
        lambda n: n[:1].isalnum() and n[-1:].isalnum(),
    ),
    (
        'Cloud Storage bucket names do not begin with "goog" nor contain "google"',
        lambda n: not n.startswith("goog") and "google" not in n,
    ),
)

# Pub/Sub topic (and subscription) IDs: 3-255 characters, starting with a letter, of letters,
# digits and - _ . ~ + %, not starting with "goog".
# https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names
TOPIC_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Pub/Sub topic IDs are 3 to 255 characters long", lambda n: 3 <= len(n) <= 255),
    (
        "Pub/Sub topic IDs start with a letter and hold only letters, digits and - _ . ~ + %",
        lambda n: re.fullmatch(r"[A-Za-z][A-Za-z0-9._~+%-]*", n) is not None,
    ),
    ('Pub/Sub topic IDs do not start with "goog"', lambda n: not n.lower().startswith("goog")),
)

# Firestore collection IDs: no "/", not "." nor "..", not __.*__, at most 1,500 bytes.
# https://firebase.google.com/docs/firestore/quotas#collections_documents_and_fields
TABLE_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "Firestore collection IDs are at most 1,500 bytes",
        lambda n: len(n.encode()) <= FIRESTORE_ID_MAX,
    ),
    (
        "Firestore collection IDs are not . or .. and do not match __.*__",
        lambda n: n not in (".", "..") and re.fullmatch(r"__.*__", n) is None,
    ),
)

# Secret Manager secret IDs: letters, digits, hyphens and underscores, at most 255.
# https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create
SECRET_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "Secret Manager secret IDs hold 1 to 255 letters, digits, hyphens (-) and underscores",
        lambda n: re.fullmatch(r"[A-Za-z0-9_-]{1,255}", n) is not None,
    ),
)

NAME_RULES: dict[str, tuple[tuple[str, Callable[[str], bool]], ...]] = {
    "bucket": BUCKET_NAME_RULES,
    "queue": TOPIC_NAME_RULES,  # a queue is a Pub/Sub topic (and its subscription)
    "topic": TOPIC_NAME_RULES,
    "table": TABLE_NAME_RULES,
    "secret": SECRET_NAME_RULES,
}


def broken_name_rule(kind: str, name: str) -> str | None:
    """The first Google Cloud naming rule `name` breaks as a `kind`'s name, or None."""
    return broken_rule(NAME_RULES[kind], name)


# How long a publish may wait for the server before it counts as failed.
PUBLISH_TIMEOUT_S = 60.0


def _sdk(module: str) -> Any:
    """A Google client library module, imported on first use (`from google.cloud import x` would
    do the same; this form keeps mypy from needing the libraries' stubs)."""
    import importlib

    return importlib.import_module(module)


def _project() -> str:
    project = os.environ.get(PROJECT_ENV)
    if project:
        return project
    import google.auth

    try:
        _, found = google.auth.default()
    except Exception as exc:  # google.auth raises DefaultCredentialsError and others
        raise ResourceError(
            f"gcp: no project: set {PROJECT_ENV} (the builder does) or configure Application "
            "Default Credentials"
        ) from exc
    if not found:
        raise ResourceError(f"gcp: no project: set {PROJECT_ENV} (the builder does)")
    return str(found)


def _error(exc: Exception, what: str, resource: str, operation: str, hint: str = "") -> Exception:
    """The neutral error for a google.api_core exception (its HTTP status tells the kind)."""
    from google.api_core import exceptions as gexc

    suffix = f"; {hint}" if hint else ""
    if isinstance(exc, gexc.NotFound):
        return NotFound(f"{what}: not found{suffix}", resource=resource, operation=operation)
    if isinstance(exc, gexc.Forbidden | gexc.PermissionDenied | gexc.Unauthorized):
        return AccessDenied(
            f"{what}: access denied by Google Cloud ({exc.message}); grant the function's "
            "service account the role this operation needs",
            resource=resource,
            operation=operation,
        )
    if isinstance(exc, gexc.AlreadyExists | gexc.FailedPrecondition | gexc.Conflict):
        return Conflict(f"{what}: {exc.message}", resource=resource, operation=operation)
    message = getattr(exc, "message", None) or str(exc)
    return ResourceError(f"{what}: {message}", resource=resource, operation=operation)


def _google_errors() -> tuple[type[Exception], ...]:
    from google.api_core import exceptions as gexc

    return (gexc.GoogleAPIError,)


def _missing_hint(kind: str, name: str, physical: str) -> str:
    from polyfn._resources import env_name

    variable = env_name(kind, name) if name else f"POLYFN_{kind.upper()}_..."
    return (
        f"check that {kind} {physical!r} exists in project {os.environ.get(PROJECT_ENV, '?')} "
        f"and that {variable} names it (polyfn build sets it)"
    )


# -- Cloud Storage -------------------------------------------------------------------------------


def _storage_client() -> Any:
    storage = _sdk("google.cloud.storage")

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(
            project=_project(),
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        )
    return storage.Client(project=os.environ.get(PROJECT_ENV))


def _check_object_name(key: str, bucket: str) -> None:
    encoded = key.encode("utf-8", "surrogatepass")
    if len(encoded) > GCS_NAME_MAX or "\r" in key or "\n" in key:
        raise ResourceError(
            f"bucket {bucket!r}: object name {key[:60]!r} breaks Cloud Storage's naming rule "
            f"(1-{GCS_NAME_MAX} bytes of UTF-8, no CR or LF: "
            "https://cloud.google.com/storage/docs/objects#naming)",
            resource=f"bucket:{bucket}",
        )


class GcsBucket:
    def __init__(self, clients: LazyClient, name: str) -> None:
        self._clients = clients
        self.name = name
        self._resource = f"bucket:{name}"

    def _bucket(self) -> Any:
        return self._clients.get().bucket(self.name)

    def _fail(self, exc: Exception, operation: str, key: str | None = None) -> Exception:
        what = f"bucket {self.name!r} {operation}" + (f" {key!r}" if key is not None else "")
        return _error(exc, what, self._resource, operation, _missing_hint("bucket", "", self.name))

    def read(self, key: str) -> bytes:
        _check_object_name(key, self.name)
        try:
            data: bytes = self._bucket().blob(key).download_as_bytes()
        except _google_errors() as exc:
            raise self._fail(exc, "read", key) from exc
        return data

    def write(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> None:
        _check_object_name(key, self.name)
        blob = self._bucket().blob(key)
        if metadata:
            blob.metadata = metadata
        try:
            blob.upload_from_string(data, content_type=content_type or "application/octet-stream")
        except _google_errors() as exc:
            raise self._fail(exc, "write", key) from exc

    def delete(self, key: str) -> None:
        from google.api_core import exceptions as gexc

        _check_object_name(key, self.name)
        try:
            self._bucket().blob(key).delete()
        except gexc.NotFound:
            return  # deleting a missing object is not an error (as on S3)
        except _google_errors() as exc:
            raise self._fail(exc, "delete", key) from exc

    def info(self, key: str) -> ObjectInfo | None:
        _check_object_name(key, self.name)
        try:
            blob = self._bucket().get_blob(key)
        except _google_errors() as exc:
            raise self._fail(exc, "info", key) from exc
        return None if blob is None else _object_info(blob)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        # list_blobs pages through the results itself (1,000 a page by default).
        try:
            for blob in self._clients.get().list_blobs(self.name, prefix=prefix or None):
                yield _object_info(blob)
        except _google_errors() as exc:
            raise self._fail(exc, "list") from exc

    def signed_url(self, key: str, method: str, expires: timedelta) -> str:
        # V4 signing: with a key file's credentials the library signs locally; on Cloud Run the
        # runtime's credentials hold no key, so it signs through the IAM signBlob API with the
        # service account's email and token (the account needs iam.serviceAccounts.signBlob on
        # itself: roles/iam.serviceAccountTokenCreator).
        # https://cloud.google.com/storage/docs/access-control/signing-urls-with-helpers
        _check_object_name(key, self.name)
        client = self._clients.get()
        blob = self._bucket().blob(key)
        credentials = client._credentials
        extra: dict[str, Any] = {}
        if not hasattr(credentials, "sign_bytes") or not getattr(credentials, "signer_email", None):
            import google.auth.transport.requests

            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())
            extra = {
                "service_account_email": getattr(credentials, "service_account_email", None),
                "access_token": credentials.token,
            }
        try:
            url: str = blob.generate_signed_url(
                version="v4", expiration=expires, method=method, **extra
            )
        except (AttributeError, ValueError, *_google_errors()) as exc:  # type: ignore[misc]
            raise self._fail(exc, "signed_url", key) from exc
        return url


def _object_info(blob: Any) -> ObjectInfo:
    return ObjectInfo(
        blob.name,
        size=int(blob.size or 0),
        etag=blob.etag,
        content_type=blob.content_type,
        updated=blob.updated,
        metadata=blob.metadata or {},
    )


# -- Pub/Sub -------------------------------------------------------------------------------------


def _publisher() -> Any:
    pubsub_v1 = _sdk("google.cloud.pubsub_v1")

    # Send at once rather than wait for a batch to fill (the library's default waits 10 ms);
    # ordering keys need message ordering enabled on the publisher.
    # https://cloud.google.com/pubsub/docs/batch-messaging
    return pubsub_v1.PublisherClient(
        batch_settings=pubsub_v1.types.BatchSettings(max_latency=0.001),
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
    )


def _check_message(message: OutgoingMessage, what: str, resource: str) -> None:
    attributes = message.attributes
    if len(attributes) > PUBSUB_ATTRIBUTES_MAX:
        raise ResourceError(
            f"{what}: {len(attributes)} attributes; Pub/Sub allows {PUBSUB_ATTRIBUTES_MAX}",
            resource=resource,
        )
    size = len(message.body)
    for key, value in attributes.items():
        key_bytes, value_bytes = len(key.encode()), len(value.encode())
        if key.startswith(PUBSUB_RESERVED_PREFIX):
            raise ResourceError(
                f"{what}: attribute {key!r}: Pub/Sub reserves names that start with "
                f"{PUBSUB_RESERVED_PREFIX!r}",
                resource=resource,
            )
        if key_bytes > PUBSUB_ATTRIBUTE_KEY_MAX or value_bytes > PUBSUB_ATTRIBUTE_VALUE_MAX:
            raise ResourceError(
                f"{what}: attribute {key[:40]!r} is too long for Pub/Sub (keys up to "
                f"{PUBSUB_ATTRIBUTE_KEY_MAX} bytes, values up to {PUBSUB_ATTRIBUTE_VALUE_MAX})",
                resource=resource,
            )
        size += key_bytes + value_bytes
    if size > PUBSUB_MESSAGE_MAX:
        raise ResourceError(
            f"{what}: the message is {size} bytes; Pub/Sub takes at most {PUBSUB_MESSAGE_MAX} "
            "(https://cloud.google.com/pubsub/quotas#resource_limits): store the payload in a "
            "bucket and send its key",
            resource=resource,
        )
    if message.delay:
        raise ResourceError(
            f"{what}: Pub/Sub cannot delay a single message (delay={message.delay}); send it "
            "without delay=, or schedule the work",
            resource=resource,
        )


class PubSubTopic:
    """A Pub/Sub topic: the wire form of both a polyfn Queue and a polyfn Topic."""

    def __init__(self, publisher: LazyClient, kind: str, name: str) -> None:
        self._publisher = publisher
        self.kind = kind
        self.name = name
        self._resource = f"{kind}:{name}"
        self._path: str | None = None

    def _topic_path(self) -> str:
        if self._path is None:
            self._path = f"projects/{_project()}/topics/{self.name}"
        return self._path

    def _future(self, message: OutgoingMessage) -> Any:
        what = f"{self.kind} {self.name!r} send"
        _check_message(message, what, self._resource)
        publisher = self._publisher.get()
        too_large = _sdk("google.cloud.pubsub_v1.publisher.exceptions").MessageTooLargeError
        try:
            return publisher.publish(
                self._topic_path(),
                message.body,
                ordering_key=message.group or "",
                **message.attributes,
            )
        except too_large as exc:
            # The whole publish request (topic name, framing, attributes) must fit in
            # PUBSUB_MESSAGE_MAX bytes, so a body just under it can still be refused here.
            raise ResourceError(
                f"{what}: with its request framing the message exceeds Pub/Sub's "
                f"{PUBSUB_MESSAGE_MAX}-byte publish request ({exc}); store the payload in a "
                "bucket and send its key",
                resource=self._resource,
                operation="send",
            ) from exc

    def _wait(self, future: Any, message: OutgoingMessage | None) -> str:
        try:
            return str(future.result(timeout=PUBLISH_TIMEOUT_S))
        except Exception as exc:
            error = self._fail(exc)
            if message is not None and message.group:
                # A failed publish pauses its ordering key until resumed.
                # https://cloud.google.com/pubsub/docs/ordering#resume_publishing
                self._publisher.get().resume_publish(self._topic_path(), message.group)
            raise error from exc

    def _fail(self, exc: Exception) -> Exception:
        if isinstance(exc, _google_errors()):
            return _error(
                exc,
                f"{self.kind} {self.name!r} send",
                self._resource,
                "send",
                _missing_hint("topic", "", self.name),
            )
        return ResourceError(
            f"{self.kind} {self.name!r} send: {type(exc).__name__}: {exc}",
            resource=self._resource,
            operation="send",
        )

    def send(self, message: OutgoingMessage) -> str:
        return self._wait(self._future(message), message)

    def publish(self, message: OutgoingMessage) -> str:
        return self.send(message)

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[str | ResourceError]:
        # Publish them all, then wait: the library batches them into few requests.
        pending: list[tuple[OutgoingMessage, Any]] = []
        outcomes: list[str | ResourceError] = []
        for message in messages:
            try:
                pending.append((message, self._future(message)))
            except ResourceError as exc:
                pending.append((message, exc))
        for message, future in pending:
            if isinstance(future, ResourceError):
                outcomes.append(future)
                continue
            try:
                outcomes.append(self._wait(future, message))
            except ResourceError as exc:
                outcomes.append(exc)
        return outcomes


# -- Firestore -----------------------------------------------------------------------------------


def _firestore_client() -> Any:
    firestore = _sdk("google.cloud.firestore")

    return firestore.Client(project=_project())


def document_id(key: str) -> str:
    """A Firestore document id for a table key: ``/`` and ``%`` escaped, and the reserved forms
    (``.``, ``..``, ``__x__``) made safe, reversibly."""
    escaped = quote(key, safe="")  # '/' -> %2F, '%' -> %25, and the rest of the unsafe bytes
    if escaped in (".", "..") or (escaped.startswith("__") and escaped.endswith("__")):
        escaped = "%" + escaped.encode().hex()  # never produced by quote(): an unambiguous form
    return escaped


class FirestoreTable:
    def __init__(self, clients: LazyClient, name: str) -> None:
        self._clients = clients
        self.name = name
        self._resource = f"table:{name}"

    def _ref(self, key: str) -> Any:
        doc_id = document_id(key)
        if len(doc_id.encode()) > FIRESTORE_ID_MAX:
            raise ResourceError(
                f"table {self.name!r}: key {key[:40]!r}... is too long for a Firestore "
                f"document id ({FIRESTORE_ID_MAX} bytes once escaped)",
                resource=self._resource,
            )
        return self._clients.get().collection(self.name).document(doc_id)

    def _fail(self, exc: Exception, operation: str, key: str) -> Exception:
        return _error(exc, f"table {self.name!r} {operation} {key!r}", self._resource, operation)

    def get(self, key: str) -> tuple[dict[str, Any], str] | None:
        try:
            snapshot = self._ref(key).get()
        except _google_errors() as exc:
            raise self._fail(exc, "get", key) from exc
        if not snapshot.exists:
            return None
        return _stored(snapshot.to_dict(), self.name, key)

    def put(self, key: str, fields: dict[str, Any], if_absent: bool, if_version: str | None) -> str:
        firestore = _sdk("google.cloud.firestore")

        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) > FIRESTORE_DOCUMENT_MAX - 2048:
            raise ResourceError(
                f"table {self.name!r} put {key!r}: the document is {len(text.encode())} bytes "
                f"as JSON; a Firestore document holds at most {FIRESTORE_DOCUMENT_MAX}",
                resource=self._resource,
                operation="put",
            )
        client = self._clients.get()
        ref = self._ref(key)
        if if_absent:
            # One create with its built-in precondition (the document must not exist): atomic,
            # and no transaction for concurrent creators to abort each other on.
            # https://cloud.google.com/firestore/docs/manage-data/add-data#set_a_document
            try:
                ref.create({"json": text, "version": 1})
            except _google_errors() as exc:
                raise self._fail(exc, "put", key) from exc
            return "1"

        @firestore.transactional  # type: ignore[untyped-decorator]
        def write(transaction: Any) -> str:
            snapshot = ref.get(transaction=transaction)
            current = int(snapshot.get("version")) if snapshot.exists else 0
            if if_absent and snapshot.exists:
                raise Conflict(
                    f"table {self.name!r} put {key!r}: a document exists (if_absent)",
                    resource=self._resource,
                    operation="put",
                )
            if if_version is not None and (not snapshot.exists or str(current) != if_version):
                raise Conflict(
                    f"table {self.name!r} put {key!r}: version is "
                    f"{current if snapshot.exists else 'absent'}, not {if_version!r} (if_version)",
                    resource=self._resource,
                    operation="put",
                )
            transaction.set(ref, {"json": text, "version": current + 1})
            return str(current + 1)

        try:
            result: str = write(client.transaction(max_attempts=TRANSACTION_ATTEMPTS))
        except _google_errors() as exc:
            raise self._fail(exc, "put", key) from exc
        except ValueError as exc:  # the library's "Failed to commit transaction in N attempts"
            if if_version is not None:
                # Concurrent writers kept aborting this one: the version it expects is, or is
                # about to be, replaced. A lost conditional write is a Conflict; the caller
                # reads again, as after any other.
                raise Conflict(
                    f"table {self.name!r} put {key!r}: concurrent writers won (if_version)",
                    resource=self._resource,
                    operation="put",
                ) from exc
            raise self._contended(exc, "put", key) from exc
        return result

    def _contended(self, exc: Exception, operation: str, key: str) -> ResourceError:
        return ResourceError(
            f"table {self.name!r} {operation} {key!r}: other writers kept the document locked "
            f"({TRANSACTION_ATTEMPTS} attempts): {exc}; try again",
            resource=self._resource,
            operation=operation,
        )

    def delete(self, key: str, if_version: str | None) -> None:
        firestore = _sdk("google.cloud.firestore")

        client = self._clients.get()
        ref = self._ref(key)
        if if_version is None:
            try:
                ref.delete()
            except _google_errors() as exc:
                raise self._fail(exc, "delete", key) from exc
            return

        @firestore.transactional  # type: ignore[untyped-decorator]
        def remove(transaction: Any) -> None:
            snapshot = ref.get(transaction=transaction)
            if not snapshot.exists or str(snapshot.get("version")) != if_version:
                raise Conflict(
                    f"table {self.name!r} delete {key!r}: version is not {if_version!r}",
                    resource=self._resource,
                    operation="delete",
                )
            transaction.delete(ref)

        try:
            remove(client.transaction(max_attempts=TRANSACTION_ATTEMPTS))
        except _google_errors() as exc:
            raise self._fail(exc, "delete", key) from exc
        except ValueError as exc:  # the library's "Failed to commit transaction in N attempts"
            raise self._contended(exc, "delete", key) from exc


def _stored(data: dict[str, Any] | None, table: str, key: str) -> tuple[dict[str, Any], str]:
    try:
        fields = json.loads((data or {})["json"])
        version = str(int((data or {})["version"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ResourceError(
            f"table {table!r} get {key!r}: the Firestore document was not written by polyfn "
            "(expected fields 'json' and 'version')",
            resource=f"table:{table}",
            operation="get",
        ) from exc
    if not isinstance(fields, dict):
        raise ResourceError(
            f"table {table!r} get {key!r}: the stored JSON is not an object",
            resource=f"table:{table}",
            operation="get",
        )
    return fields, version


# -- Secret Manager ------------------------------------------------------------------------------


def _secrets_client() -> Any:
    secretmanager = _sdk("google.cloud.secretmanager")

    endpoint = os.environ.get("POLYFN_SECRETMANAGER_ENDPOINT")
    if endpoint:
        # A Secret Manager that answers over REST at `endpoint` (the tests' fake service: there
        # is no Secret Manager emulator). Anonymous credentials: nothing leaves the machine.
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        return secretmanager.SecretManagerServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return secretmanager.SecretManagerServiceClient()


class GcpSecret:
    def __init__(self, clients: LazyClient, name: str) -> None:
        self._clients = clients
        self.name = name

    def _version_name(self) -> str:
        # A full resource name is taken as it is; a bare id reads its latest version.
        if self.name.startswith("projects/"):
            return self.name if "/versions/" in self.name else f"{self.name}/versions/latest"
        return f"projects/{_project()}/secrets/{self.name}/versions/latest"

    def value(self) -> str:
        try:
            response = self._clients.get().access_secret_version(name=self._version_name())
        except _google_errors() as exc:
            raise _error(
                exc,
                f"secret {self.name!r} value",
                f"secret:{self.name}",
                "value",
                _missing_hint("secret", "", self.name),
            ) from exc
        data: bytes = response.payload.data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ResourceError(
                f"secret {self.name!r}: the value is not UTF-8 text",
                resource=f"secret:{self.name}",
                operation="value",
            ) from exc


# -- the backend ---------------------------------------------------------------------------------


class GcpBackend:
    """polyfn's resource backend on Google Cloud: one client per service per process."""

    def __init__(self) -> None:
        self._storage = LazyClient(_storage_client)
        self._publisher = LazyClient(_publisher)
        self._firestore = LazyClient(_firestore_client)
        self._secrets = LazyClient(_secrets_client)

    def bucket(self, name: str) -> GcsBucket:
        return GcsBucket(self._storage, name)

    def queue(self, name: str, fifo: bool) -> PubSubTopic:
        return PubSubTopic(self._publisher, "queue", name)

    def topic(self, name: str) -> PubSubTopic:
        return PubSubTopic(self._publisher, "topic", name)

    def table(self, name: str) -> FirestoreTable:
        return FirestoreTable(self._firestore, name)

    def secret(self, name: str) -> GcpSecret:
        return GcpSecret(self._secrets, name)
