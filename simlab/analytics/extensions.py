"""DuckDB extensions shipped inside PyPI wheels, and the SQL literal their DDL takes.

``LOAD`` and ``ATTACH`` take no parameters, so paths and connection strings are
written into the statement as quoted literals.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb


def literal(value: object) -> str:
    """A SQL string literal: ``value`` in single quotes, inner quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def wheel_binary(package: str, extension: str) -> Path | None:
    """The ``extension`` binary that wheel ``package`` ships for this duckdb version, if any.

    The ``duckdb-extension-*`` wheels lay their binaries out as
    ``<package>/extensions/v<duckdb version>/<extension>.duckdb_extension``.
    """
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    binary = (
        Path(module.__file__).parent
        / "extensions"
        / f"v{duckdb.__version__}"
        / f"{extension}.duckdb_extension"
    )
    return binary if binary.is_file() else None
