"""Start-up times a researcher waits for: the CLI, the package, a notebook, a report.

Usage: uv run python benchmarks/bench_startup.py [--db data/demo.db] [--repeat 3]

Each measure is a whole new process (so imports count), best of ``--repeat``
(the report: once). The notebook runs the way the tests and ``simlab report``
run it: in process (``app.run()`` after loading the file, as
``tests/test_notebooks.py`` does) and through ``marimo export html``. The
database is the demo's (``uv run simlab demo`` makes it); its columnar copies
exist already (the demo's runs wrote them), as after any completed run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import print_table

REPO = Path(__file__).resolve().parent.parent
IN_PROCESS = """
import importlib.util, sys
sys.argv = sys.argv[1:]  # as the tests set it: the notebook's own name, no options
spec = importlib.util.spec_from_file_location("nb", sys.argv[0])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.app.run()
"""


def wall(command: list[str], env: dict | None = None) -> tuple[float, str]:
    """Seconds one process took, and its stderr (for the report's progress lines)."""
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])} failed: {done.stderr.strip()[-400:]}")
    return seconds, done.stderr


def best(command: list[str], repeat: int, env: dict | None = None) -> float:
    """Best wall time of ``repeat`` runs of ``command``."""
    return min(wall(command, env)[0] for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=REPO / "data" / "demo.db")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = args.db.absolute()
    if not db.exists():
        raise SystemExit(f"--db: {db} does not exist; make it with `uv run simlab demo`")
    python = sys.executable
    notebook = str(REPO / "notebooks" / "compare_feeds.py")
    with tempfile.TemporaryDirectory() as scratch:
        rows = [
            ("simlab --help", best([python, "-m", "simlab", "--help"], args.repeat), 1.0),
            ("import simlab", best([python, "-c", "import simlab"], args.repeat), 0.5),
            (
                "compare_feeds.py in process (app.run())",
                best([python, "-c", IN_PROCESS, notebook], args.repeat, {"SIMLAB_DB": str(db)}),
                6.0,
            ),
            (
                "compare_feeds.py via marimo export html",
                best(
                    [
                        python,
                        "-m",
                        "marimo",
                        "export",
                        "html",
                        notebook,
                        "-f",
                        "-o",
                        f"{scratch}/nb.html",
                        "--",
                        "--db",
                        str(db),
                    ],
                    args.repeat,
                ),  # fmt: skip
                6.0,
            ),
        ]
        seconds, progress = wall(
            [python, "-m", "simlab", "report", "--db", str(db), "--out", f"{scratch}/report"]
        )
        rows.append(("simlab report (demo comparison)", seconds, 15.0))
    flags = f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')}"
    print_table(
        f"bench_startup: best of {args.repeat} ({flags})",
        [(name, f"{value:.2f} s", f"< {target:g} s") for name, value, target in rows],
    )
    print("\nsimlab report progress:\n" + progress.strip())


if __name__ == "__main__":
    main()
