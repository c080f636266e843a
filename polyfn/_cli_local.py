"""The local-loop commands: serve, tick, send, messages, events, invoke, translate.

``serve`` runs an app on this machine with no cloud account; ``tick`` fires a schedule once;
``send`` and ``messages`` feed and inspect the local queues; ``events`` prints a sample native
event of any trigger of any cloud; ``invoke`` runs one native event through a cloud's real
adapter entry; ``translate`` turns one cloud's native event into another's. Adapters are
imported inside the handlers only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyfn._cli_errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from polyfn._app import App
    from polyfn._provider import EventSamples
_APP_HELP = "the app: module:attribute, a module (attribute `app`), or a path to a .py file"
_STATE_HELP = "folder for the local queues and storage (default: .polyfn)"


def _parser(subparsers: Any, name: str, summary: str, description: str, example: str) -> Any:
    return subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog="example:\n" + example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def register(subparsers: Any) -> None:
    """Add serve, tick, send, messages, events, invoke and translate to the ``polyfn`` parser."""
    p = _parser(
        subparsers,
        "serve",
        "run an app locally: HTTP, schedules, storage folders and queues",
        "Run every function of APP on this machine, with no cloud account. HTTP functions answer "
        "on http://HOST:PORT; schedules fire on their cron (and on demand with `polyfn tick` or "
        "POST /_polyfn/tick/FUNCTION); each storage bucket is a folder (STORAGE_DIR/BUCKET) "
        "whose new, changed and deleted files fire the storage functions; each queue is a "
        "durable SQLite queue (STATE_DIR/queues.db) that `polyfn send` feeds, with redelivery "
        "(backing off: --retry-delay, then twice as long each time, up to 60 s) and a "
        "dead-letter queue QUEUE-dead after the last allowed delivery. Every invocation is cut "
        "off at its function's timeout (60 s unless declared). One serve per STATE_DIR: a "
        "second is refused. One JSON log line per invocation goes to stderr. Ctrl-C stops.",
        "  polyfn serve shop.api:app --port 8000\n"
        "  curl http://127.0.0.1:8000/orders/42\n"
        "  cp report.csv .polyfn/storage/uploads/incoming/\n"
        "  polyfn send orders '{\"id\": 42}' --attr source=cli",
    )
    p.add_argument("app", metavar="APP", help=_APP_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="HTTP port; 0 picks a free one")
    p.add_argument("--state-dir", type=Path, default=Path(".polyfn"), help=_STATE_HELP)
    p.add_argument(
        "--storage-dir",
        type=Path,
        help="folder whose subfolders are the buckets (default: STATE_DIR/storage)",
    )
    p.add_argument(
        "--no-schedules",
        action="store_true",
        help="do not fire schedules on their cron (only on demand)",
    )
    p.add_argument(
        "--poll-interval",
        type=float,
        default=0.2,
        help="seconds between looks at the storage folders and queues (default 0.2)",
    )
    p.add_argument(
        "--visibility-timeout",
        type=float,
        help="seconds a message stays hidden while its handler runs before it is "
        "redelivered (default: the function's timeout, 60 unless declared)",
    )
    p.add_argument(
        "--retry-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="wait before a failed message or storage event is retried; each later retry "
        "waits twice as long, up to 60 s (default 1: 1, 2, 4, 8, ... s)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME (repeatable; * for any). By default only "
        "127.0.0.1, localhost and [::1] with the port are answered, against DNS rebinding",
    )
    p.add_argument(
        "--max-body-size",
        type=int,
        metavar="BYTES",
        help="largest request body; larger ones get 413 (default 6291456, Lambda's 6 MB)",
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection that sends nothing for this long (default 30)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="connections served at once; more wait to be accepted (default 100)",
    )
    p.add_argument(
        "--log-format",
        choices=("json", "text"),
        default="json",
        help="log lines as JSON objects (default) or as human-readable text",
    )
    p.set_defaults(run=run_serve)

    p = _parser(
        subparsers,
        "tick",
        "fire a schedule function once, now",
        "Run schedule FUNCTION of APP once, in this process, as its timer would (provider "
        '"local"). Exit status 1 if the handler raised.',
        "  polyfn tick shop.api:app nightly",
    )
    p.add_argument("app", metavar="APP", help=_APP_HELP)
    p.add_argument("function", metavar="FUNCTION", help="name of a schedule function")
    p.add_argument("--past-due", action="store_true", help="mark the tick as past due")
    p.set_defaults(run=run_tick)

    p = _parser(
        subparsers,
        "send",
        "put a message on a local queue",
        "Put one message on local queue QUEUE (STATE_DIR/queues.db). It is durable once this "
        "returns; a running `polyfn serve` picks it up, or the next one does. BODY is the text, "
        "@FILE for a file's bytes, or - for standard input. Prints the message id. QUEUE must "
        "be one the app uses (as registered by the last `polyfn serve` on STATE_DIR, or as "
        "declared by --app APP) or one that holds messages: an unknown name is refused with "
        "the list, so a typo or the wrong folder does not create a queue nobody reads.",
        "  polyfn send orders '{\"id\": 42}' --attr source=cli --attr priority=high\n"
        "  polyfn send images @photo.jpg\n"
        "  polyfn send orders '{\"id\": 1}' --app shop.api   # before serve has ever run here",
    )
    p.add_argument("queue", metavar="QUEUE", help='queue name, as in @app.queue("QUEUE")')
    p.add_argument("body", metavar="BODY", help="message body: text, @FILE or -")
    p.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a message attribute (repeatable)",
    )
    p.add_argument("--group", help="message group (FIFO queues keep each group in order)")
    p.add_argument(
        "--app",
        metavar="APP",
        help="take the known queues from APP instead of from what `polyfn serve` registered",
    )
    p.add_argument("--state-dir", type=Path, default=Path(".polyfn"), help=_STATE_HELP)
    p.set_defaults(run=run_send)

    p = _parser(
        subparsers,
        "messages",
        "list, redrive or purge the messages on a local queue",
        "Show what a local queue holds: waiting and in-flight messages with their delivery "
        "counts, or a dead-letter queue's messages with the number of deliveries that failed "
        "(failed_deliveries) and the last error. Without QUEUE, list the queues and their sizes. "
        "--redrive moves a dead-letter queue's waiting messages back to the queue each came "
        "from (or --to QUEUE) as new messages; --purge deletes every message of QUEUE; --reset "
        "moves an unreadable queues.db aside (to queues.db.broken-TIME) so the next start is "
        "empty. These work while `polyfn serve` runs, except --reset.",
        "  polyfn messages orders-dead\n"
        "  polyfn messages orders-dead --redrive             # back to orders, deliveries from 1\n"
        "  polyfn messages orders-dead --purge\n"
        "  polyfn messages --reset                           # when queues.db is reported broken",
    )
    p.add_argument("queue", metavar="QUEUE", nargs="?", help="queue name")
    action = p.add_mutually_exclusive_group()
    action.add_argument(
        "--redrive",
        action="store_true",
        help="move QUEUE's waiting dead letters back to their source queue (or --to)",
    )
    action.add_argument("--purge", action="store_true", help="delete every message on QUEUE")
    action.add_argument(
        "--reset",
        action="store_true",
        help="move STATE_DIR/queues.db aside and start with empty queues (serve stopped)",
    )
    p.add_argument("--to", metavar="QUEUE", help="with --redrive: the queue to move them to")
    p.add_argument("--state-dir", type=Path, default=Path(".polyfn"), help=_STATE_HELP)
    p.set_defaults(run=run_messages)

    p = _parser(
        subparsers,
        "events",
        "print a sample native event of a cloud trigger",
        "Print a sample native event, as PROVIDER delivers it to a function, for TRIGGER. "
        "Without TRIGGER, list PROVIDER's triggers (each adapter names its own). --set "
        "KEY=VALUE changes a field (run with a TRIGGER and --set help to list its keys).",
        "  polyfn events aws sqs --set body='{\"id\": 42}' --set attr.source=cli > sqs.json\n"
        "  polyfn events gcp storage --set bucket=uploads --set key='incoming/a b.csv'",
    )
    _provider_argument(p, "provider", metavar="PROVIDER")
    p.add_argument(
        "trigger",
        metavar="TRIGGER",
        nargs="?",
        help="trigger name (`polyfn events PROVIDER` lists them)",
    )
    _set_option(p, "override a field of the sample (repeatable)")
    p.set_defaults(run=run_events)

    p = _parser(
        subparsers,
        "invoke",
        "run one native event through a cloud's real adapter entry",
        "Run FUNCTION of APP once through PROVIDER's real adapter entry with the native event "
        "in FILE (- for standard input), in a fake host of that cloud, and print the native "
        "result as JSON: what the cloud's runtime would return (a Lambda's result, the Azure "
        "worker's answer to the host, the HTTP response functions-framework gives). `polyfn "
        "events` writes such files. Exit status, "
        "the same on every cloud: 0 when the invocation succeeded (an HTTP answer 1xx-3xx); 1 "
        "when the function failed it (a raise, or an HTTP answer 5xx such as polyfn's 500); 2 "
        "when the event cannot be read (or another usage error); 3 when an HTTP answer is 4xx "
        "(no route for the path, method not allowed, a body or delivery refused).",
        "  polyfn events aws sqs > sqs.json\n"
        "  polyfn invoke shop.api:app on_order --provider aws --event sqs.json",
    )
    p.add_argument("app", metavar="APP", help=_APP_HELP)
    p.add_argument("function", metavar="FUNCTION", help="name of the polyfn function")
    _provider_argument(p, "--provider", required=True)
    p.add_argument("--event", required=True, metavar="FILE", help="native event JSON file, or -")
    p.set_defaults(run=run_invoke)

    p = _parser(
        subparsers,
        "openapi",
        "write the OpenAPI 3.1 description of an app's HTTP functions",
        "Describe the HTTP functions of APP as an OpenAPI 3.1 document: routes and methods, typed "
        "path, query and header parameters, body and response models, and polyfn's own answers "
        "(400 with field errors, 415, 500). `polyfn serve` answers the same document at "
        "/_polyfn/openapi.json, with a docs page at /_polyfn/docs.",
        "  polyfn openapi shop.api:app --out openapi.json",
    )
    p.add_argument("app", metavar="APP", help=_APP_HELP)
    p.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")
    p.add_argument("--title", help="info.title (default: the app's name)")
    p.add_argument("--api-version", default="0.1.0", help="info.version (default 0.1.0)")
    p.set_defaults(run=run_openapi)

    p = _parser(
        subparsers,
        "translate",
        "turn one cloud's native event into another cloud's equivalent",
        "Read the native event in EVENT_FILE (- for standard input) as its cloud's adapter reads "
        "it (--from, or the one provider whose triggers it looks like), and print the same "
        "request, object change, message or tick as a native event of the --to provider, in "
        "the shape `polyfn events` prints. The target trigger is the first of the same kind "
        "that carries every field (--trigger picks one). What has no equivalent (a binary "
        "body, a batch of several messages, attributes no trigger of the target carries) is "
        "refused with exit status 2, naming it; docs/translate.md lists what cannot translate.",
        "  polyfn events aws s3 > s3.json\n"
        "  polyfn translate --to gcp s3.json\n"
        "  polyfn translate --to azure --from aws --trigger servicebus sqs.json",
    )
    p.add_argument("event", metavar="EVENT_FILE", help="native event JSON file, or -")
    _provider_argument(p, "--to", required=True, metavar="PROVIDER")
    _provider_argument(p, "--from", dest="source", metavar="PROVIDER")
    p.add_argument(
        "--trigger", metavar="TRIGGER", help="the target's trigger (`polyfn events PROVIDER`)"
    )
    _set_option(p, "set a field of the translated event (as `polyfn events --set`; repeatable)")
    p.set_defaults(run=run_translate)


# -- helpers -----------------------------------------------------------------------------------


def _set_option(parser: Any, help: str) -> None:
    """``--set KEY=VALUE``, repeatable, collected in ``args.overrides``."""
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides", help=help
    )


def _provider_argument(parser: Any, *names: str, **kwargs: Any) -> None:
    """PROVIDER (or --provider): one of the installed providers, listed when the command runs."""
    from polyfn._cli_build import provider_choices

    action = parser.add_argument(*names, **kwargs)

    def fill(parser: Any, argv: list[str]) -> None:
        choices = provider_choices(action)
        action.help = ", ".join(choices[:-1]) + (" or " if len(choices) > 1 else "") + choices[-1]

    parser.before_parse.append(fill)


def _load(ref: str) -> App:
    from polyfn._local._loader import load_app

    return load_app(ref)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(
                f"{option} {item!r} is not KEY=VALUE; write it as {option} name=value."
            )
        pairs[key] = value
    return pairs


def _read_input(value: str, what: str) -> bytes:
    if value == "-":
        return sys.stdin.buffer.read()
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {what} file {str(path)!r}: {exc.strerror}.") from exc
    return value.encode()


def _samples(provider: str) -> EventSamples:
    from polyfn._cli_build import load_provider

    loaded = load_provider(provider)
    try:
        return loaded.events()
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"the {provider} adapter needs {exc.name!r}, which is not installed: "
            f"pip install '{loaded.distribution}' brings it."
        ) from exc


# -- handlers ----------------------------------------------------------------------------------


def run_serve(args: argparse.Namespace) -> int:
    from polyfn._local._resources import STATE_ENV, STORAGE_ENV

    # Code that runs outside an invocation (module level, threads it starts) finds the same
    # state folder as the handlers; restored after, for callers that run serve in process.
    saved = {name: os.environ.get(name) for name in (STATE_ENV, STORAGE_ENV)}
    os.environ[STATE_ENV] = str(args.state_dir)
    os.environ[STORAGE_ENV] = str(args.storage_dir or args.state_dir / "storage")
    try:
        return _serve(args)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _serve(args: argparse.Namespace) -> int:
    import signal

    from polyfn._local._http_server import HttpLimits
    from polyfn._local._runtime import LocalRuntime

    app = _load(args.app)
    if args.log_format == "text":
        from polyfn._logs import use_text_format

        use_text_format()
    if args.port < 0 or args.port > 65535:
        raise UsageError(
            f"--port {args.port} is not a TCP port; use 1-65535, or 0 for any free one."
        )
    limits = {
        "max_body_bytes": ("--max-body-size", args.max_body_size),
        "idle_timeout": ("--idle-timeout", args.idle_timeout),
        "max_connections": ("--max-connections", args.max_connections),
    }
    for option, value in limits.values():
        if value is not None and not 0 < value < 1e9:
            raise UsageError(f"{option} {value} must be a number greater than 0.")
    if not args.retry_delay >= 0:
        raise UsageError(f"--retry-delay {args.retry_delay} must be 0 or more seconds.")
    runtime = LocalRuntime(
        app,
        host=args.host,
        port=args.port,
        state_dir=args.state_dir,
        storage_dir=args.storage_dir,
        poll_interval=args.poll_interval,
        visibility_timeout=args.visibility_timeout,
        run_schedules=not args.no_schedules,
        http_limits=HttpLimits(
            **{field: value for field, (_, value) in limits.items() if value is not None}
        ),
        allow_hosts=args.allow_host,
        retry_delay=args.retry_delay,
    )
    try:
        runtime.start()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. Another server may "
            "be using the port: pick another with --port (0 picks a free one)."
        ) from exc

    def on_signal(signum: int, frame: object) -> None:
        runtime.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(runtime.banner(), flush=True)
        while not runtime.wait(1.0):
            pass
    finally:
        runtime.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if runtime.fatal is not None:
        # Stopped from inside (a corrupt queue file, a crashed loop): a non-zero exit and the
        # one-paragraph reason, not a server that answers HTTP while its queues are dead.
        raise runtime.fatal
    print(f"polyfn: stopped {app.name}", flush=True)
    return 0


def run_tick(args: argparse.Namespace) -> int:
    from polyfn._local._invoke import fire_timer

    app = _load(args.app)
    function = app.function(args.function)
    if function.trigger_label != "schedule":
        schedules = ", ".join(f.name for f in app.functions_of("schedule")) or "none"
        raise UsageError(
            f"{function.name!r} is {function.trigger.noun}, not a schedule; `polyfn tick` "
            f"fires schedules (app {app.name!r} has: {schedules})."
        )
    try:
        # On its own thread: at the function's timeout this returns 1 and the process ends,
        # the handler with it, as the cloud ends a timed-out invocation.
        fire_timer(app, function, past_due=args.past_due, bounded=True)
    except Exception:
        return 1  # the handler's traceback is already in the log line
    return 0


def run_send(args: argparse.Namespace) -> int:
    from polyfn._local._queue import LocalQueue
    from polyfn._local._runtime import known_queues, queue_roles

    if not args.queue:
        raise UsageError("QUEUE must not be empty.")
    body = _read_input(args.body, "message body")
    attributes = _pairs(args.attr, "--attr")
    db = args.state_dir / "queues.db"
    existed = db.exists()
    roles = queue_roles(_load(args.app)) if args.app is not None else None
    if roles is None and not existed:
        raise UsageError(
            f"no local queues in {str(args.state_dir)!r} (no {db.name}): `polyfn send` looks "
            "for them in the folder `polyfn serve` runs in. Run this from your project's "
            "folder (or pass --state-dir), or name the app with --app APP before serve has "
            "ever run there."
        )
    queue = LocalQueue(db) if existed else None  # a refused name creates no file
    if roles is None:
        assert queue is not None
        roles = queue.registered()
    known = known_queues(roles, queue.queues() if queue is not None else {})
    if args.queue not in known:
        listed = "; ".join(f"{name} ({role})" for name, role in known.items())
        raise UsageError(
            f"no queue {args.queue!r} in {str(args.state_dir)!r}; "
            + (f"the known queues are: {listed}. " if listed else "it knows no queues yet. ")
            + "Unknown names are refused so that a typo does not create a queue nobody reads. "
            "Queues are known from the app (--app APP, or the last `polyfn serve` here) and "
            "from the messages they hold."
        )
    if queue is None:
        queue = LocalQueue(db)
        print(f"polyfn: created {db} (no `polyfn serve` has run here yet)", file=sys.stderr)
    print(queue.send(args.queue, body, attributes=attributes, group=args.group))
    return 0


def run_messages(args: argparse.Namespace) -> int:
    import json
    import time

    from polyfn._local._queue import LocalQueue

    db = args.state_dir / "queues.db"
    if args.reset:
        return _reset_queues(args, db)
    if (args.redrive or args.purge) and args.queue is None:
        flag = "--redrive" if args.redrive else "--purge"
        raise UsageError(f"{flag} needs a QUEUE: polyfn messages QUEUE {flag}.")
    if args.to is not None and not args.redrive:
        raise UsageError("--to names where --redrive moves messages; add --redrive.")
    if not db.exists():
        raise UsageError(f"no local queues in {str(args.state_dir)!r} yet (no {db.name}).")
    queue = LocalQueue(db)
    if args.redrive:
        return _redrive(args, queue)
    if args.purge:
        count = queue.purge(args.queue)
        print(f"polyfn: purged {count} message{'s' if count != 1 else ''} from {args.queue!r}")
        return 0
    if args.queue is None:
        print(json.dumps(queue.queues(), indent=2))
        return 0
    now = time.time()
    messages = queue.messages(args.queue)
    if not messages:
        # Nothing on stdout (a script reads no lines), but a mistyped name should not look like
        # an empty queue without a word: say which queues hold messages.
        held = ", ".join(f"{name} ({n})" for name, n in sorted(queue.queues().items()))
        print(
            f"polyfn: queue {args.queue!r} holds no messages; "
            + (f"queues with messages: {held}." if held else "no queue holds any."),
            file=sys.stderr,
        )
    for m in messages:
        entry: dict[str, Any] = {
            "id": m.id,
            "body": m.body.decode("utf-8", errors="replace"),
            "attributes": m.attributes,
            "deliveries": m.delivery_count,
        }
        if m.failed_deliveries is not None:
            # A dead letter's own count starts again at 0; this says how many deliveries failed
            # before it was moved.
            entry["failed_deliveries"] = m.failed_deliveries
        entry["state"] = "in flight" if m.receipt and m.visible_at > now else "waiting"
        if m.group is not None:
            entry["group"] = m.group
        if m.last_error:
            entry["last_error"] = m.last_error
        print(json.dumps(entry))
    return 0


def _redrive(args: argparse.Namespace, queue: Any) -> int:
    from polyfn._local._runtime import known_queues

    if args.to is not None:
        known = known_queues(queue.registered(), queue.queues())
        if args.to not in known:
            raise UsageError(
                f"--to {args.to!r} is not a known queue; known: {', '.join(known) or 'none'}."
            )
    moved = queue.redrive(args.queue, to=args.to)
    for target, count in moved.items():
        if target is not None:
            print(f"polyfn: moved {count} message{'s' if count != 1 else ''} to {target!r}")
    stranded = moved.get(None, 0)
    if stranded:
        print(
            f"polyfn: {stranded} message{'s' if stranded != 1 else ''} of {args.queue!r} "
            f"{'carries' if stranded == 1 else 'carry'} no source queue (not dead-lettered by "
            "polyfn) and stayed; name one with --to QUEUE.",
            file=sys.stderr,
        )
        return 1
    if not moved:
        print(f"polyfn: {args.queue!r} holds no waiting messages to redrive.", file=sys.stderr)
    return 0


def _reset_queues(args: argparse.Namespace, db: Path) -> int:
    from polyfn._local._queue import move_aside
    from polyfn._local._statelock import holder

    if args.queue is not None or args.to is not None:
        raise UsageError("--reset takes no QUEUE or --to: it sets aside every local queue.")
    pid = holder(args.state_dir)
    if pid is not None:
        raise UsageError(
            f"`polyfn serve` (pid {pid}) is using {str(args.state_dir)!r}; stop it before "
            "--reset, which moves its queue file away."
        )
    moved = move_aside(db)
    if not moved:
        print(f"polyfn: no {db.name} in {str(args.state_dir)!r}; nothing to reset.")
        return 0
    for path in moved:
        print(f"polyfn: moved aside {path}")
    print("polyfn: the local queues start empty at the next `polyfn serve` or `polyfn send`.")
    return 0


def run_events(args: argparse.Namespace) -> int:
    import json

    samples = _samples(args.provider)
    triggers = samples.TRIGGERS
    if args.trigger is None:
        width = max(map(len, triggers))
        for name, summary in triggers.items():
            print(f"{name:<{width}}  {summary}")
        return 0
    if args.trigger not in triggers:
        raise UsageError(
            f"{args.provider} has no trigger {args.trigger!r}; choose one of: "
            f"{', '.join(triggers)}."
        )
    if args.overrides == ["help"]:
        for key, summary in samples.OVERRIDES[args.trigger].items():
            print(f"{key}: {summary}")
        return 0
    overrides = _pairs(args.overrides, "--set")
    event = samples.sample_event(args.trigger, **overrides)
    print(json.dumps(event, indent=2, ensure_ascii=False))
    return 0


def run_openapi(args: argparse.Namespace) -> int:
    import json

    from polyfn._openapi import openapi_document

    app = _load(args.app)
    document = openapi_document(app, title=args.title, version=args.api_version)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(document['paths'])} paths)", file=sys.stderr)
    return 0


def run_invoke(args: argparse.Namespace) -> int:
    import json

    from polyfn._cli_build import require_command_extra

    require_command_extra(args.provider, "invoke")
    app = _load(args.app)
    function = app.function(args.function)
    event = _event_file(args.event, args.provider)
    samples = _samples(args.provider)
    looks_like = samples.trigger_of(event)
    if looks_like is not None and not _takes(function.trigger_label, samples.KINDS[looks_like]):
        matching = [
            t for t, label in samples.KINDS.items() if _takes(function.trigger_label, label)
        ]
        raise UsageError(
            f"event file {args.event!r} holds an event of {args.provider} trigger "
            f"{looks_like!r}, but {function.name!r} is {function.trigger.noun}. "
            "Use an event of one of its "
            f"triggers: `polyfn events {args.provider} {matching[0] if matching else ''}` "
            f"({', '.join(matching)})."
        )
    with invoke_resources(args.provider) as where:
        result, ok = samples.invoke(app, function.name, event)
    # Said after the run: an event the adapter refuses is a usage error, which comes first.
    print(f"polyfn invoke: resources: {where}", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return invoke_exit_status(ok, samples.http_status(result))


def _event_file(name: str, provider: str) -> dict[str, Any]:
    """The JSON object in event file `name` (- for standard input)."""
    import json

    raw = _read_input(name if name == "-" else "@" + name, "event")
    try:
        event = json.loads(raw)
    except ValueError as exc:
        raise UsageError(
            f"event file {name!r} is not JSON ({exc}). Write a native {provider} event "
            f"there; `polyfn events {provider}` lists the samples it can generate."
        ) from exc
    if not isinstance(event, dict):
        raise UsageError(
            f"event file {name!r} holds a JSON {type(event).__name__}; a native event is a "
            f"JSON object (see `polyfn events {provider}`)."
        )
    return event


def run_translate(args: argparse.Namespace) -> int:
    import json

    from polyfn._provider import names
    from polyfn._translate import detect_source, translate

    event = _event_file(args.event, args.source or "PROVIDER")
    source = args.source
    if source is None:
        readers = {}
        for name in names():
            samples = _samples(name)
            if hasattr(samples, "read_event"):  # a provider that cannot be read is no source
                readers[name] = samples
        source = detect_source(event, readers)
    source_samples = _samples(source)
    if not hasattr(source_samples, "read_event"):
        raise UsageError(f"provider {source!r} cannot read its events into the neutral model.")
    out = translate(
        event,
        source_samples,
        _samples(args.to),
        source_name=source,
        target_name=args.to,
        trigger=args.trigger,
        overrides=_pairs(args.overrides, "--set"),
    )
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


# `polyfn invoke --provider X` runs the handler here, on a developer's machine, where the
# provider's SDK would find the developer's real credentials: its handles use the local twins
# unless this variable asks for the provider's backend (then the SDK's own endpoint settings,
# such as AWS_ENDPOINT_URL or PUBSUB_EMULATOR_HOST, say where it goes).
INVOKE_RESOURCES_ENV = "POLYFN_INVOKE_RESOURCES"


@contextlib.contextmanager
def invoke_resources(provider: str) -> Iterator[str]:
    """The resources `polyfn invoke` gives the handler, and a line saying which: the local twins
    under the state folder (the default: nothing leaves the machine), or, with
    ``POLYFN_INVOKE_RESOURCES=provider``, `provider`'s own backend and the endpoints the
    environment names."""
    from polyfn._local._resources import DEFAULT_STATE_DIR, STATE_ENV, LocalBackend
    from polyfn._resources import _BACKENDS

    choice = os.environ.get(INVOKE_RESOURCES_ENV, "local")
    if choice == "provider":
        from polyfn._provider import provider as provider_named

        settings = provider_named(provider).endpoint_settings
        endpoints = [f"{k}={os.environ[k]}" for k in settings if os.environ.get(k)]
        named = ", ".join(endpoints) or "none set: the SDK's default endpoints, a real cloud"
        yield f"{provider}'s backend ({INVOKE_RESOURCES_ENV}=provider); endpoints: {named}"
        return
    if choice != "local":
        raise UsageError(
            f"{INVOKE_RESOURCES_ENV}={choice!r}: use 'local' (the local twins, the default) or "
            f"'provider' ({provider}'s backend, at the endpoints the environment names)"
        )
    previous = _BACKENDS.get(provider)
    _BACKENDS[provider] = LocalBackend()
    state = os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR
    try:
        yield (
            f"the local twins under {state}/ (set {INVOKE_RESOURCES_ENV}=provider to use "
            f"{provider}'s backend and the emulator endpoints in the environment)"
        )
    finally:
        if previous is None:
            _BACKENDS.pop(provider, None)
        else:
            _BACKENDS[provider] = previous


# `polyfn invoke`'s exit status when the event was read: the same rule on every cloud.
EXIT_INVOKE_OK = 0
EXIT_INVOKE_FAILED = 1
EXIT_INVOKE_REFUSED = 3


def _takes(function_kind: str, sample_kind: str) -> bool:
    """Whether a function of `function_kind` takes a sample event of `sample_kind`: a topic
    subscriber reads the message events of queues (SNS, Service Bus, Pub/Sub); the adapter
    refuses the queue services that carry no topics."""
    return sample_kind == function_kind or (function_kind, sample_kind) == ("subscribe", "queue")


def invoke_exit_status(ok: bool, status: int | None) -> int:
    """0 for a success, 1 for a failed invocation or an HTTP 5xx answer, 3 for an HTTP 4xx."""
    if not ok or (status is not None and status >= 500):
        return EXIT_INVOKE_FAILED
    if status is not None and status >= 400:
        return EXIT_INVOKE_REFUSED
    return EXIT_INVOKE_OK
