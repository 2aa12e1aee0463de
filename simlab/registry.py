"""A name -> entry registry with helpful errors, shared by feeds, policies and metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from simlab.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries registered once under a unique name; lookups of unknown names list the known ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name`` (names are unique)."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def decorator(
        self, name: str, build: Callable[[Callable], T]
    ) -> Callable[[Callable], Callable]:
        """A decorator registering ``build(function)`` under ``name`` and returning the function."""

        def register(function: Callable) -> Callable:
            self.add(name, build(function))
            return function

        return register

    def get(self, name: str) -> T:
        """The entry called ``name``.

        Raises:
            InputError: naming the unknown entry and every allowed name.
        """
        try:
            return self._entries[name]
        except KeyError:
            allowed = ", ".join(self.names())
            raise InputError(f"unknown {self.kind} {name!r}; allowed: {allowed}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def registration_order(self) -> list[str]:
        """Registered names in the order they were registered (charts key colours by it)."""
        return list(self._entries)

    def __iter__(self) -> Iterator[T]:
        return iter(self._entries[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._entries
