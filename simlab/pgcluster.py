"""A private, throwaway PostgreSQL cluster: initdb in a temporary folder, one server process.

Tests and benchmarks use it to run simlab against a real PostgreSQL without
touching any system cluster. The procedure:

1. find the server binaries (``$SIMLAB_PG_BINDIR`` alone when set, else
   ``pg_config --bindir``, ``/usr/lib/postgresql/<version>/bin``, then
   ``initdb`` on ``PATH``);
2. ``initdb`` a data folder in a new temporary directory, as an unprivileged
   user (PostgreSQL refuses to run as root: under root the ``postgres`` system
   user is used, else ``nobody``; any other user runs it as itself);
3. start ``postgres`` as a direct child process, listening on 127.0.0.1 only
   (no Unix socket), on a free port, trust authentication;
4. on exit: fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL,
   and the temporary directory is removed. On Linux the server also gets
   ``PR_SET_PDEATHSIG`` = SIGQUIT, so a parent killed with ``kill -9`` still
   takes its server with it: no orphan postgres process.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from simlab import orphans

SUPERUSER = "postgres"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``, or None when PostgreSQL is not installed.

    ``$SIMLAB_PG_BINDIR``, when set, is the only folder tried.
    """
    if os.environ.get("SIMLAB_PG_BINDIR"):
        candidates = [os.environ["SIMLAB_PG_BINDIR"]]  # an explicit choice: no fallback
    else:
        candidates = _found_bindirs()
    for folder in candidates:
        path = Path(folder)
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    return None


def _found_bindirs() -> list[str]:
    candidates: list[str] = []
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            candidates.append(
                subprocess.run(
                    ["pg_config", "--bindir"], capture_output=True, text=True, check=True
                ).stdout.strip()
            )
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=_version_of, reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).resolve().parent))
    return candidates


def _version_of(bindir: str) -> list[int]:
    """``/usr/lib/postgresql/15/bin`` -> [15] (newest installed version first)."""
    return [int(part) for part in re.findall(r"\d+", Path(bindir).parent.name)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> pwd.struct_passwd:
    """Who runs the server: the caller, or under root the ``postgres`` user (else ``nobody``)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    orphans.signal_at_parent_death(signal.SIGQUIT)


@dataclass
class PrivateCluster:
    """One running server; use as a context manager (or call :meth:`start` / :meth:`stop`)."""

    bindir: Path
    settings: dict[str, str] = field(
        default_factory=lambda: {"fsync": "off", "synchronous_commit": "off"}
    )
    port: int = 0
    root: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder (inside the temporary directory)."""
        assert self.root is not None, "cluster not started"
        return self.root / "data"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        return self.process.pid if self.process is not None else None

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for ``database`` on this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run_as_user(self, args: list[str], **kwargs) -> subprocess.Popen:
        user = _server_user()
        identity = {}
        if os.geteuid() == 0:
            identity = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.root), "LC_ALL": "C"}
        return subprocess.Popen(args, env=env, cwd=self.root, **identity, **kwargs)

    def start(self) -> PrivateCluster:
        """Create a data folder (initdb) and start the server; return once it accepts queries."""
        user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="simlab-pg-"))
        os.chown(self.root, user.pw_uid, user.pw_gid)
        initdb = self._run_as_user(
            [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER]
            + ["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output, _ = initdb.communicate(timeout=120)
        if initdb.returncode != 0:
            self._remove_root()
            raise RuntimeError(f"initdb failed ({initdb.returncode}): {output.strip()}")
        self.port = free_port()
        options = {"listen_addresses": "127.0.0.1", "unix_socket_directories": "", **self.settings}
        args = [str(self.bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        for key, value in options.items():
            args += ["-c", f"{key}={value}"]
        log = (self.root / "server.log").open("w")
        self.process = self._run_as_user(
            args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        log.close()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"postgres exited ({self.process.returncode}): {self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if self._accepts_queries():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"postgres not ready after {START_TIMEOUT_S:.0f} s: {self.log_tail()}")

    def _accepts_queries(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres"
            ) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the server log (for error messages)."""
        log = self.root / "server.log" if self.root else None
        if log is None or not log.is_file():
            return ""
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its URL."""
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, closing any session still connected to it."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)

    def stop(self) -> None:
        """Stop the server (fast, then immediate, then kill) and remove the temporary folder."""
        if self.process is not None:
            for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
                if self.process.poll() is not None:
                    break
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=STOP_TIMEOUT_S)
            self.process.wait()
            self.process = None
        self._remove_root()

    def _remove_root(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PrivateCluster:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
