"""`polyfn cost`: an app's monthly bill on each cloud, from a traffic profile and its settings.

The core reads the profile (or a measured one, from ``polyfn serve``'s invocation log) into one
`Usage` per function and asks each provider to price them (`Provider.cost`). The prices, and what
a trigger implies on each cloud (a gateway, a queue, a topic, bucket writes), live in the
adapters' dated `Rate` tables; this module only holds the arithmetic they share.

Money is `Decimal` throughout, never float. Each line is rounded to the cent (half up), as the
clouds' own worked examples round each charge, and a bill's total is the sum of its lines.
Free tiers are per account and month, so a provider applies each allowance once, to the sum of
every function's usage of that meter.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from polyfn._errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from polyfn._app import App, Function

CENT = Decimal("0.01")
ZERO = Decimal(0)
MONTH_SECONDS = Decimal(30 * 24 * 3600)  # a measured log is scaled to a 30-day month

# The per-function fields a profile may give, and what each means (for --help and errors).
PROFILE_FIELDS = {
    "invocations": "handler invocations per month (required)",
    "duration_ms": "average duration of one invocation, in milliseconds (required)",
    "memory_mb": "memory to price, in MB (default: the function's declared memory=, else the "
    "cloud's default)",
    "request_bytes": "average size of one input: HTTP request body, message or object (default 1 "
    "KB)",
    "response_bytes": "average size of one HTTP response, for the egress a cloud prices (default "
    "0)",
    "messages": "queue or topic messages per month (default: invocations, one message each)",
}
DEFAULT_REQUEST_BYTES = Decimal(1024)
# No field of a month's traffic comes near this; above it a value is a typo (and Decimal's
# context would overflow on values such as 1e999999).
MAX_VALUE = Decimal(10) ** 15


class NotPricedError(ConfigError):
    """The provider holds no price tables: `polyfn cost` skips it when pricing every cloud."""


class Usage:
    """One function's traffic in a month: the profile's figures beside its declared settings.

    `memory_mb` is the profile's figure, else the declared ``memory=``, else None (each cloud
    prices its own default). `messages` counts what a queue or topic carries for the function.
    """

    __slots__ = (
        "duration_ms",
        "function",
        "invocations",
        "memory_mb",
        "messages",
        "request_bytes",
        "response_bytes",
    )

    def __init__(
        self,
        function: Function,
        *,
        invocations: Decimal,
        duration_ms: Decimal,
        memory_mb: int | None = None,
        request_bytes: Decimal = DEFAULT_REQUEST_BYTES,
        response_bytes: Decimal = ZERO,
        messages: Decimal | None = None,
    ) -> None:
        self.function = function
        self.invocations = invocations
        self.duration_ms = duration_ms
        self.memory_mb = memory_mb if memory_mb is not None else function.settings.memory
        self.request_bytes = request_bytes
        self.response_bytes = response_bytes
        self.messages = invocations if messages is None else messages

    @property
    def name(self) -> str:
        return self.function.name

    def seconds(self, step_ms: int, minimum_ms: int = 0) -> Decimal:
        """Billed seconds of all invocations: each duration rounded up to `step_ms`, and at least
        `minimum_ms`."""
        billed = max(round_up(self.duration_ms, Decimal(step_ms)), Decimal(minimum_ms))
        return self.invocations * billed / 1000

    def __repr__(self) -> str:
        return f"Usage({self.name!r}, invocations={self.invocations}, ms={self.duration_ms})"


class Rate:
    """One meter of a cloud's price list: `price` in USD per `per` units, the monthly free
    allowance `free` (0 for none), and the page it comes from."""

    __slots__ = ("free", "included", "per", "price", "source", "unit")

    def __init__(
        self,
        price: str | None,
        unit: str,
        *,
        per: int = 1,
        free: int | str = 0,
        included: bool = False,
        source: str,
    ) -> None:
        # None: a meter polyfn counts but holds no price for (the quantity is still shown).
        self.price = None if price is None else Decimal(price)
        self.unit = unit
        self.per = Decimal(per)
        self.free = Decimal(free)
        # `included`: the allowance comes with a paid base charge, not with a free tier, so
        # --no-free-tier keeps it.
        self.included = included
        self.source = source

    def describe(self) -> str:
        """The rate as a price list shows it: ``$0.20 per 1M requests``, ``$0.0135 per hour``."""
        if self.price is None:
            return "not in polyfn's table"
        if self.per == 1:
            single = (
                self.unit[:-1]
                if self.unit.endswith("s") and not self.unit.endswith("-s")
                else self.unit
            )
            return f"${self.price} per {single}"
        per = "1M" if self.per == 1_000_000 else _count(self.per)
        return f"${self.price} per {per} {self.unit}"

    def __repr__(self) -> str:
        return f"Rate({self.describe()!r})"


class Line:
    """One charge of a bill: `quantity` of a meter, the free allowance applied, the amount."""

    __slots__ = ("amount", "free", "item", "quantity", "rate")

    def __init__(self, item: str, quantity: Decimal, rate: Rate, free: Decimal, amount: Decimal):
        self.item = item
        self.quantity = quantity
        self.rate = rate
        self.free = free
        self.amount = amount

    @property
    def billable(self) -> Decimal:
        return self.quantity - self.free

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "quantity": _plain(self.quantity),
            "unit": self.rate.unit,
            "free": _plain(self.free),
            "billable": _plain(self.billable),
            "rate": self.rate.describe(),
            "price": None if self.rate.price is None else _plain(self.rate.price),
            "per": _plain(self.rate.per),
            "amount": None if self.rate.price is None else f"{self.amount:.2f}",
            "source": self.rate.source,
        }


class Bill:
    """One cloud's monthly bill for the app on one plan (`deployed`: the plan polyfn's build
    writes), priced from tables checked against their pages on `priced_on`."""

    __slots__ = ("deployed", "lines", "notes", "plan", "priced_on", "provider", "region", "title")

    def __init__(
        self,
        provider: str,
        plan: str,
        title: str,
        *,
        deployed: bool,
        priced_on: str,
        region: str,
        lines: Iterable[Line] = (),
        notes: Iterable[str] = (),
    ) -> None:
        self.provider = provider
        self.plan = plan
        self.title = title
        self.deployed = deployed
        self.priced_on = priced_on
        self.region = region
        self.lines = list(lines)
        self.notes = list(notes)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    def line(self, item: str) -> Line:
        """The line named `item` (tests and scripts read single charges)."""
        for line in self.lines:
            if line.item == item:
                return line
        raise KeyError(f"{self.provider}/{self.plan} has no line {item!r}")

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(line.rate.source for line in self.lines))

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "plan": self.plan,
            "title": self.title,
            "deployed": self.deployed,
            "priced_on": self.priced_on,
            "region": self.region,
            "currency": "USD",
            "lines": [line.as_dict() for line in self.lines],
            "total": f"{self.total:.2f}",
            "sources": self.sources,
            "notes": self.notes,
        }


# -- arithmetic the adapters share ---------------------------------------------------------------


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_up(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded up to a multiple of `step` (a billing increment)."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def chunks(size_bytes: Decimal, chunk_bytes: int) -> Decimal:
    """How many requests a payload of `size_bytes` bills as, at one per `chunk_bytes` started
    (at least one)."""
    return max(Decimal(1), round_up(size_bytes, Decimal(chunk_bytes)) / chunk_bytes)


def charge(item: str, quantity: Decimal, rate: Rate, *, free_tier: bool) -> Line:
    """The line for `quantity` units of `rate`, its free allowance taken off when `free_tier` (an
    allowance a base charge includes always)."""
    free = min(quantity, rate.free) if free_tier or rate.included else ZERO
    price = rate.price if rate.price is not None else ZERO
    return Line(item, quantity, rate, free, cents((quantity - free) * price / rate.per))


class Implied:
    """What an app's triggers imply on one cloud beyond its functions: a quantity per billed item
    (in the order first met) and notes. An adapter fills it with one `match` over each usage's
    trigger, then turns it into lines."""

    __slots__ = ("_added", "_peaks", "_rates", "notes")

    def __init__(self) -> None:
        self._rates: dict[str, str] = {}  # item -> the key of its rate in the adapter's table
        self._added: dict[str, Decimal] = {}
        self._peaks: dict[str, dict[str, Decimal]] = {}
        self.notes: list[str] = []

    def add(self, item: str, rate: str, quantity: Decimal) -> None:
        """Count `quantity` more of `item`."""
        self._rates.setdefault(item, rate)
        self._added[item] = self._added.get(item, ZERO) + quantity

    def peak(self, item: str, rate: str, key: str, quantity: Decimal) -> None:
        """Count `item` once per `key`, at the largest quantity given for it: the publishes to a
        topic are its busiest subscriber's messages, a namespace's base charge is paid once."""
        self._rates.setdefault(item, rate)
        peaks = self._peaks.setdefault(item, {})
        peaks[key] = max(peaks.get(key, ZERO), quantity)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def lines(self, rates: Mapping[str, Rate], *, free_tier: bool) -> list[Line]:
        out = []
        for item, rate in self._rates.items():
            quantity = self._added.get(item, ZERO) + sum(self._peaks.get(item, {}).values(), ZERO)
            out.append(charge(item, quantity, rates[rate], free_tier=free_tier))
        return out


def total(usages: Iterable[Usage], measure: Any) -> Decimal:
    """The sum of `measure(usage)` over `usages`."""
    return sum((Decimal(measure(u)) for u in usages), ZERO)


# -- profiles ------------------------------------------------------------------------------------


def read_profile(text: str, app: App, *, origin: str) -> list[Usage]:
    """The usages a profile file's `text` describes: a JSON object ``{"functions": {NAME:
    {FIELD: VALUE}}}``, or the JSON lines ``polyfn serve`` logs (one per invocation), measured.
    A wrong value is a `ConfigError` naming the field."""
    import json

    stripped = text.strip()
    if not stripped:
        raise ConfigError(f"profile {origin}: the file is empty")
    try:
        data = json.loads(stripped, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        if stripped.startswith("{") and "\n" in stripped:
            return measured_profile(stripped.splitlines(), app, origin=origin)
        raise ConfigError(
            f"profile {origin}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            'expected {"functions": {"NAME": {"invocations": N, "duration_ms": MS}}} or the '
            "invocation log of `polyfn serve`"
        ) from None
    if isinstance(data, dict) and data.get("message") == "invocation":
        return measured_profile(stripped.splitlines(), app, origin=origin)
    return profile_usages(data, app, origin=origin)


def profile_usages(data: Any, app: App, *, origin: str) -> list[Usage]:
    """The usages of a parsed profile object (numbers as Decimal)."""
    if not isinstance(data, dict):
        raise ConfigError(f"profile {origin}: expected a JSON object with a 'functions' object")
    unknown = sorted(set(data) - {"functions"})
    if unknown:
        raise ConfigError(
            f"profile {origin}: unknown top-level field(s) {', '.join(map(repr, unknown))}; a "
            "profile has one field, 'functions'"
        )
    functions = data.get("functions")
    if not isinstance(functions, dict):
        raise ConfigError(
            f"profile {origin}: 'functions' must be an object mapping function names to their "
            f"traffic, got {_shown(functions)}"
        )
    declared = {f.name: f for f in app.functions}
    usages = []
    for name, fields in functions.items():
        where = f"profile {origin}: functions.{name}"
        fn = declared.get(name)
        if fn is None:
            raise ConfigError(
                f"{where}: app {app.name!r} has no function {name!r} (its functions: "
                f"{', '.join(sorted(declared)) or 'none'})"
            )
        if not isinstance(fields, dict):
            raise ConfigError(f"{where} must be an object of {', '.join(PROFILE_FIELDS)}")
        usages.append(_usage(fn, fields, where))
    return usages


def _usage(fn: Function, fields: Mapping[str, Any], where: str) -> Usage:
    unknown = sorted(set(fields) - set(PROFILE_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; the fields are "
            f"{', '.join(PROFILE_FIELDS)}"
        )
    for required in ("invocations", "duration_ms"):
        if required not in fields:
            raise ConfigError(f"{where}.{required} is missing ({PROFILE_FIELDS[required]})")
    values = {key: _number(fields[key], f"{where}.{key}") for key in fields}
    memory = values.get("memory_mb")
    if memory is not None and (memory <= 0 or memory != memory.to_integral_value()):
        raise ConfigError(f"{where}.memory_mb must be a positive whole number of MB, got {memory}")
    return Usage(
        fn,
        invocations=values["invocations"],
        duration_ms=values["duration_ms"],
        memory_mb=None if memory is None else int(memory),
        request_bytes=values.get("request_bytes", DEFAULT_REQUEST_BYTES),
        response_bytes=values.get("response_bytes", ZERO),
        messages=values.get("messages"),
    )


def _number(value: Any, field: str) -> Decimal:
    """A finite, non-negative number, or a ConfigError naming `field`."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise ConfigError(f"{field} must be a number, got {_shown(value)}")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ConfigError(f"{field} must be a number, got {_shown(value)}") from None
    if not number.is_finite():
        raise ConfigError(f"{field} must be a finite number, got {number}")
    if number < 0:
        raise ConfigError(f"{field} must not be negative, got {number}")
    if number > MAX_VALUE:
        raise ConfigError(f"{field} must be at most 10^15, got {number}")
    return number


def measured_profile(lines: Iterable[str], app: App, *, origin: str) -> list[Usage]:
    """Usages measured from ``polyfn serve``'s invocation log: per function, the mean
    ``duration_ms`` of its lines, and its count scaled from the log's time span to a 30-day
    month. Lines that are not invocation records (other log lines) are skipped."""
    import json
    from datetime import UTC, datetime

    seen: dict[str, list[Decimal]] = {}
    times: list[datetime] = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict) or record.get("message") != "invocation":
            continue
        where = f"profile {origin} line {number}"
        name, duration, stamp = (
            record.get("function"),
            record.get("duration_ms"),
            record.get("time"),
        )
        if not isinstance(name, str) or not isinstance(stamp, str):
            raise ConfigError(f"{where}: an invocation record needs 'function' and 'time'")
        seen.setdefault(name, []).append(_number(duration, f"{where}: duration_ms"))
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            raise ConfigError(f"{where}: time {stamp!r} is not an ISO 8601 time") from None
        # serve writes UTC with its offset; a hand-edited time without one is taken as UTC too.
        times.append(when if when.tzinfo else when.replace(tzinfo=UTC))
    if not seen:
        raise ConfigError(
            f'profile {origin}: no invocation records (lines with "message": "invocation" '
            "that `polyfn serve` writes to stderr)"
        )
    span = Decimal(str((max(times) - min(times)).total_seconds()))
    if span < 1:
        raise ConfigError(
            f"profile {origin}: the invocations span {span} s; a measured profile needs a log "
            "that covers at least a second of traffic to scale it to a month"
        )
    scale = MONTH_SECONDS / span
    declared = {f.name: f for f in app.functions}
    usages = []
    for name, durations in seen.items():
        fn = declared.get(name)
        if fn is None:
            raise ConfigError(
                f"profile {origin}: the log has invocations of {name!r}, which app {app.name!r} "
                f"does not declare (its functions: {', '.join(sorted(declared)) or 'none'})"
            )
        mean = sum(durations, ZERO) / len(durations)
        usages.append(
            Usage(
                fn,
                invocations=(len(durations) * scale).to_integral_value(rounding=ROUND_CEILING),
                duration_ms=mean,
            )
        )
    return usages


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, Decimal) else str(value)
    return f"{text} ({type(value).__name__ if not isinstance(value, Decimal) else 'number'})"


def _plain(value: Decimal) -> str:
    """A Decimal as plain digits (no exponent), without trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _count(value: Decimal) -> str:
    """A quantity for people: thousands separated, at most 6 decimals."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.quantize(Decimal('0.000001')).normalize():,f}"


def format_bills(bills: Iterable[Bill], *, free_tier: bool) -> str:
    """The bills as text: one block per cloud and plan, one row per charge."""
    out: list[str] = []
    for bill in bills:
        mark = " (what polyfn deploys)" if bill.deployed else ""
        out.append(f"{bill.provider} · {bill.title}{mark}")
        out.append(f"  {bill.region} prices checked on {bill.priced_on}")
        # Without free tiers the column shows only allowances a base charge includes.
        shown = free_tier or any(line.free for line in bill.lines)
        rows = [("charge", "quantity", "free" if shown else "", "rate", "amount")]
        for line in bill.lines:
            amount = "-" if line.rate.price is None else f"${line.amount:,.2f}"
            free = _count(line.free) if shown else ""
            rows.append(
                (
                    line.item,
                    f"{_count(line.quantity)} {line.rate.unit}",
                    free,
                    line.rate.describe(),
                    amount,
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4].rjust(widths[4])]
            out.append("  " + "  ".join(cells).rstrip())
        out.append(
            f"  {'total'.ljust(sum(widths[:4]) + 6)}  {f'${bill.total:,.2f}'.rjust(widths[4])}"
        )
        out.extend(f"  note: {note}" for note in bill.notes)
        out.extend(f"  source: {source}" for source in bill.sources)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
