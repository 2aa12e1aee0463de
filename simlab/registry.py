"""A name -> entry registry with helpful errors, shared by feeds, policies, opinions, metrics and evaluators."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from simlab.errors import InputError

T = TypeVar("T")
CLOSE_ENOUGH = 0.6  # difflib similarity a suggestion needs (its default cutoff)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the choices closest to ``name``, or ``""`` if none is close.

    Closeness is :func:`difflib.get_close_matches` (at most three, best first);
    a name that differs only in case or in ``-`` for ``_`` always matches.
    """
    options = list(choices)
    folded = {option.lower().replace("-", "_"): option for option in options}
    exact = folded.get(name.lower().replace("-", "_"))
    close = [exact] if exact else difflib.get_close_matches(name, options, 3, CLOSE_ENOUGH)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(option) for option in close) + "? "


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
            InputError: naming the unknown entry, the closest names (:func:`did_you_mean`)
                and every allowed name, in one line.
        """
        try:
            return self._entries[name]
        except KeyError:
            allowed = ", ".join(self.names())
            hint = did_you_mean(str(name), self.names())
            raise InputError(f"unknown {self.kind} {name!r}; {hint}allowed: {allowed}") from None

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
