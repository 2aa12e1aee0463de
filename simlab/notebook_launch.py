"""Opening the marimo notebooks in ``notebooks/``, and what a notebook is opened on.

A notebook learns its database and selection from one place: its command line
after marimo's ``--`` (``--db PATH --comparison ID --runs a,b``), read by
:func:`inputs`; without ``--db`` it uses ``$SIMLAB_DB``, else ``data/simlab.db``.
:meth:`NotebookInputs.argv` writes that command line, for ``simlab notebook``
(:func:`notebook_command`) and for the report's ``marimo export``, so every
path into a notebook goes through the same two functions.

Open one from Python or the CLI::

    simlab.notebook_launch.open_notebook("compare_feeds", db="data/simlab.db")
    simlab notebook compare_feeds --db data/simlab.db
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simlab.db import existing_sqlite_file, resolve_url
from simlab.errors import InputError
from simlab.postgres import is_postgres

_PACKAGE_DIR = Path(__file__).resolve().parent


# --- which notebook ---------------------------------------------------------------


def notebook_dir() -> Path:
    """The notebooks folder: inside the package when installed (``simlab/_notebooks``), else the repo's."""
    packaged = _PACKAGE_DIR / "_notebooks"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / "notebooks"


def names() -> list[str]:
    """The notebooks that can be opened by name, sorted."""
    return sorted(p.stem for p in notebook_dir().glob("*.py") if not p.name.startswith("_"))


def notebook_path(name: str) -> Path:
    """The file of notebook ``name`` (``compare_feeds`` or ``compare_feeds.py``).

    Raises:
        InputError: no notebook has that name.
    """
    stem = name.removesuffix(".py")
    if stem not in names():
        raise InputError(f"notebook: unknown notebook {name!r}; choose from {', '.join(names())}")
    return notebook_dir() / f"{stem}.py"


# --- what a notebook is opened on -------------------------------------------------


@dataclass(frozen=True)
class NotebookInputs:
    """A notebook's database and what to show first (its command line after ``--``).

    ``db`` None means the default database (``$SIMLAB_DB``, else ``data/simlab.db``),
    as everywhere in simlab: pass it on to ``analytics.connect`` or :func:`database_file`.
    """

    db: str | None = None
    comparison_id: str | None = None
    run_ids: tuple[str, ...] = ()

    @property
    def kwargs(self) -> dict:
        """The arguments of :func:`simlab.analytics.initial_selection`."""
        return {"run_ids": self.run_ids, "comparison_id": self.comparison_id}

    def argv(self) -> list[str]:
        """The arguments after marimo's ``--`` that :func:`inputs` reads back as these inputs."""
        line = ["--db", self.db] if self.db else []
        line += ["--comparison", self.comparison_id] if self.comparison_id else []
        line += ["--runs", ",".join(self.run_ids)] if self.run_ids else []
        return line


def inputs(argv: Sequence[str] | None = None) -> NotebookInputs:
    """Parse ``--db``, ``--comparison`` and ``--runs a,b`` from ``argv`` (default ``sys.argv[1:]``).

    marimo sets ``sys.argv`` to the notebook file plus the arguments after ``--``;
    anything else on the line (a Jupyter kernel's ``-f``) is ignored. Values stay
    strings: an id such as ``1234e5678901`` is not read as a number.
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    parser.add_argument("--comparison")
    parser.add_argument("--runs", default="")
    known, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    runs = tuple(r.strip() for r in known.runs.split(",") if r.strip())
    return NotebookInputs(db=known.db, comparison_id=known.comparison, run_ids=runs)


def database_file(db: str | os.PathLike | None) -> str:
    """The absolute path of an existing SQLite database (``db``, ``$SIMLAB_DB`` or the default).

    A PostgreSQL URL is returned as a URL with its driver (the notebooks read it
    through :mod:`simlab.analytics.pg_attach`).

    Raises:
        InputError: not SQLite or PostgreSQL, or the SQLite file does not exist.
    """
    if is_postgres(resolve_url(db)):
        return resolve_url(db)
    return str(existing_sqlite_file(db, reader="the notebooks"))


# --- opening a notebook -----------------------------------------------------------


def notebook_command(
    name: str,
    db: str | os.PathLike | None = None,
    *,
    comparison: str | None = None,
    runs: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int | None = None,
    headless: bool = False,
) -> list[str]:
    """The ``marimo edit`` command line that opens notebook ``name`` on the database.

    The database (``db``, else ``$SIMLAB_DB``, else ``data/simlab.db``) goes to the
    notebook as an absolute ``--db`` after ``--`` (:meth:`NotebookInputs.argv`).

    Raises:
        InputError: unknown notebook, or the database is not an existing SQLite file.
    """
    path = notebook_path(name)
    opened_on = NotebookInputs(database_file(db), comparison, tuple(runs))
    command = [sys.executable, "-m", "marimo", "edit", str(path), "--host", host]
    command += ["--port", str(port)] if port is not None else []
    command += ["--headless"] if headless else []
    return command + ["--skip-update-check", "--", *opened_on.argv()]


def launch(name: str, db: str | os.PathLike | None = None, **options) -> subprocess.Popen:
    """Start ``marimo edit`` for notebook ``name`` (see :func:`notebook_command`) and return it."""
    return subprocess.Popen(notebook_command(name, db, **options))


def open_notebook(
    name: str,
    db: str | os.PathLike | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    **options,
) -> int:
    """Open notebook ``name`` in marimo's editor (a browser tab) and wait until it stops.

    Args:
        name: a notebook from :func:`names`.
        db: the database; default ``$SIMLAB_DB``, else ``data/simlab.db``.
        host: the interface marimo listens on.
        port: the port; default: marimo picks a free one from 2718.
        **options: ``comparison``, ``runs`` and ``headless`` of :func:`notebook_command`.

    Returns:
        marimo's exit code (0 after Ctrl-C).
    """
    process = launch(name, db, host=host, port=port, **options)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return 0
