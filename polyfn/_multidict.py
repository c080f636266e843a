"""Multi-maps for headers (case-insensitive) and query strings (ordered, repeated keys kept)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar, overload

    _T = TypeVar("_T")
    _Pairs = Iterable[tuple[str, str]]


class Headers(Mapping[str, str]):
    """A case-insensitive multi-map of HTTP headers.

    ``headers[k]`` and ``.get(k)`` give the first value; ``.getall(k)`` every value, in order.
    Iteration yields each distinct name once, in the case it was first seen; ``.items()`` yields
    one pair per value (so repeated headers are never merged).
    """

    __slots__ = ("_store",)

    def __init__(self, items: _Pairs | Mapping[str, str] | None = None) -> None:
        # lower-cased name -> (name as first seen, [values])
        self._store: dict[str, tuple[str, list[str]]] = {}
        if items is None:
            return
        pairs = items.items() if isinstance(items, Mapping) else items
        store = self._store
        for name, value in pairs:
            key = name.lower()
            entry = store.get(key)
            if entry is None:
                store[key] = (name, [value])
            else:
                entry[1].append(value)

    @classmethod
    def from_multi(cls, items: Mapping[str, Iterable[str]]) -> Headers:
        """Build from a mapping of name -> list of values."""
        h = cls()
        store = h._store
        for name, values in items.items():
            key = name.lower()
            entry = store.get(key)
            if entry is None:
                store[key] = (name, list(values))
            else:
                entry[1].extend(values)
        return h

    def __getitem__(self, name: str) -> str:
        return self._store[name.lower()][1][0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._store

    def __iter__(self) -> Iterator[str]:
        return (entry[0] for entry in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self.multi_items()) == sorted(other.multi_items())
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - mutable, unhashable by design
        raise TypeError("Headers is unhashable")

    if TYPE_CHECKING:

        @overload
        def get(self, name: str, /) -> str | None: ...
        @overload
        def get(self, name: str, default: str, /) -> str: ...
        @overload
        def get(self, name: str, default: _T, /) -> str | _T: ...

    def get(self, name: str, default: object = None, /) -> object:
        entry = self._store.get(name.lower())
        return entry[1][0] if entry is not None else default

    def getall(self, name: str) -> list[str]:
        entry = self._store.get(name.lower())
        return list(entry[1]) if entry is not None else []

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, one per value, in insertion order."""
        return [(entry[0], v) for entry in self._store.values() for v in entry[1]]

    def to_multi(self) -> dict[str, list[str]]:
        return {entry[0]: list(entry[1]) for entry in self._store.values()}

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        entry = self._store.get(key)
        if entry is None:
            self._store[key] = (name, [value])
        else:
            entry[1].append(value)

    def set(self, name: str, value: str) -> None:
        """Replace every value of `name` with `value`."""
        self._store[name.lower()] = (name, [value])

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        del self._store[name.lower()]

    def pop(self, name: str, default: list[str] | None = None) -> list[str] | None:
        entry = self._store.pop(name.lower(), None)
        return entry[1] if entry is not None else default

    def copy(self) -> Headers:
        return Headers.from_multi({n: vs for n, vs in self._store.values()})

    def __repr__(self) -> str:
        return f"Headers({self.multi_items()!r})"


class QueryParams(Mapping[str, str]):
    """An ordered multi-map of query parameters; repeated keys and empty values are kept.

    ``query[k]`` and ``.get(k)`` give the first value; ``.getall(k)`` every value.
    """

    __slots__ = ("_index", "_pairs")

    def __init__(self, items: _Pairs | Mapping[str, str] | None = None) -> None:
        if items is None:
            pairs: list[tuple[str, str]] = []
        elif isinstance(items, Mapping):
            pairs = list(items.items())
        else:
            pairs = list(items)
        self._pairs = pairs
        index: dict[str, list[str]] = {}
        for k, v in pairs:
            index.setdefault(k, []).append(v)
        self._index = index

    @classmethod
    def parse(cls, query_string: str) -> QueryParams:
        """Parse a raw (percent-encoded) query string; ``+`` is a space, blanks are kept."""
        if not query_string:
            return cls()
        from urllib.parse import parse_qsl

        return cls(parse_qsl(query_string, keep_blank_values=True))

    def __getitem__(self, key: str) -> str:
        return self._index[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, QueryParams):
            return self._pairs == other._pairs
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover
        raise TypeError("QueryParams is unhashable")

    if TYPE_CHECKING:

        @overload
        def get(self, key: str, /) -> str | None: ...
        @overload
        def get(self, key: str, default: str, /) -> str: ...
        @overload
        def get(self, key: str, default: _T, /) -> str | _T: ...

    def get(self, key: str, default: object = None, /) -> object:
        values = self._index.get(key)
        return values[0] if values else default

    def getall(self, key: str) -> list[str]:
        return list(self._index.get(key, ()))

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def to_multi(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._index.items()}

    def __repr__(self) -> str:
        return f"QueryParams({self._pairs!r})"
