"""A package's public names imported from their submodules on first use (PEP 562).

A package ``__init__`` that imports every submodule it re-exports makes each
of its submodules cost all of them: ``import simlab.population.labels_served``
runs ``simlab/population/__init__.py`` first. With ``__getattr__ =
exported(__name__, {...})`` the package's own import is free and
``from package import name`` still works (it calls ``__getattr__``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def exported(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: ``exports[name]`` is the module defining ``name``.

    Unknown names raise ``AttributeError``, so ``from package import submodule``
    falls back to importing the submodule as usual.
    """

    def __getattr__(name: str) -> object:
        if name in exports:
            return getattr(import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
