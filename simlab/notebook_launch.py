"""Opening the marimo notebooks in ``notebooks/``, and what a notebook is opened on.

A notebook learns its database and selection from one place: its command line
after marimo's ``--`` (``--db PATH --comparison ID --runs a,b``), read by
:func:`inputs`; without ``--db`` it uses ``$SIMLAB_DB``, else ``data/simlab.db``.
:meth:`NotebookInputs.argv` writes that command line, for ``simlab notebook``
(:func:`notebook_command`) and for the report's ``marimo export``, so every
path into a notebook goes through the same two functions.

A notebook opens as an app (``marimo run``: code hidden, read-only) unless
``edit`` asks for marimo's editor. Either way the server listens on 127.0.0.1
with a random access token, handed to marimo on its stdin (never on a command
line other users can list), and :attr:`Served.url` is the address to open,
token included.

Open one from Python or the CLI::

    simlab.notebook_launch.open_notebook("compare_feeds", db="data/simlab.db")
    simlab notebook compare_feeds --db data/simlab.db          # the app
    simlab notebook compare_feeds --db data/simlab.db --edit   # the editor
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simlab.db import existing_sqlite_file, is_postgres, resolve_url
from simlab.errors import InputError

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


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at ``host`` right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def notebook_command(
    name: str,
    db: str | os.PathLike | None = None,
    *,
    comparison: str | None = None,
    runs: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int,
    headless: bool = False,
    edit: bool = False,
) -> list[str]:
    """The ``marimo run`` (or, with ``edit``, ``marimo edit``) command line for notebook ``name``.

    The access token is read from stdin (``--token-password-file -``, see
    :func:`launch`). The database (``db``, else ``$SIMLAB_DB``, else
    ``data/simlab.db``) goes to the notebook as an absolute ``--db`` after ``--``
    (:meth:`NotebookInputs.argv`).

    Raises:
        InputError: unknown notebook, or the database is not an existing SQLite file.
    """
    path = notebook_path(name)
    opened_on = NotebookInputs(database_file(db), comparison, tuple(runs))
    mode = "edit" if edit else "run"
    command = [sys.executable, "-m", "marimo", "--quiet", mode, str(path), "--host", host]
    command += ["--port", str(port), "--token", "--token-password-file", "-"]
    command += ["--headless"] if headless else []
    command += ["--skip-update-check"] if edit else ["--no-sandbox"]
    return command + ["--", *opened_on.argv()]


@dataclass
class Served:
    """A notebook being served: the marimo process and the URL (with its token) to open."""

    process: subprocess.Popen
    url: str


def launch(
    name: str,
    db: str | os.PathLike | None = None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    **options,
) -> Served:
    """Start marimo for notebook ``name`` (see :func:`notebook_command`) with a fresh token.

    Args:
        name: a notebook from :func:`names`.
        db: the database; default ``$SIMLAB_DB``, else ``data/simlab.db``.
        host: the interface marimo listens on.
        port: the port; default: a free one.
        **options: ``comparison``, ``runs``, ``headless`` and ``edit`` of
            :func:`notebook_command`.
    """
    port = free_port(host) if port is None else port
    command = notebook_command(name, db, host=host, port=port, **options)
    token = secrets.token_urlsafe(16)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, text=True)
    process.stdin.write(token)
    process.stdin.close()
    return Served(process, f"http://{host}:{port}/?access_token={token}")


def open_notebook(
    name: str,
    db: str | os.PathLike | None = None,
    say=print,
    **options,
) -> int:
    """Serve notebook ``name`` (an app, or the editor with ``edit=True``) until it stops.

    Args:
        name: a notebook from :func:`names`.
        db: the database; default ``$SIMLAB_DB``, else ``data/simlab.db``.
        say: prints the URL to open (token included).
        **options: ``host``, ``port`` of :func:`launch`; ``comparison``, ``runs``,
            ``headless`` and ``edit`` of :func:`notebook_command`.

    Returns:
        marimo's exit code (0 after Ctrl-C).
    """
    served = launch(name, db, **options)
    view = "editor" if options.get("edit") else "app (read-only; --edit opens the editor)"
    say(f"{name}: open {served.url} ({view}); Ctrl-C stops it")
    try:
        return served.process.wait()
    except KeyboardInterrupt:
        served.process.terminate()
        served.process.wait(timeout=10)
        return 0
