"""The ``sim`` catalog of a default connection: per-run columnar copies, the rest attached.

:func:`simlab.analytics.connect` attaches the SQLite file READ_ONLY as
``sim_sqlite`` and builds an in-memory catalog ``sim`` of views with the
attached file's tables and columns, in its order and types:

- a table or view with a ``run_id`` column reads the Parquet copies of the
  runs that were not running at connect (:mod:`simlab.columnar`), plus the
  rows of the runs that were running, through the attach (so their new turns
  are seen as they commit);
- every other table (populations, posts, comparisons, ...) reads the attach;
- the connection's ``feed_items`` view reads the feed items a finished run's
  copy keeps beside its feeds (:mod:`simlab.feed_items`) and parses the JSON
  of the others' ``generated_feeds`` rows;
- the internal view ``_simlab_turn_counts`` (run_id, turn_number, action,
  n: likes, comments and follows per run and turn) holds the counts a
  finished run's manifest keeps, and counts the running runs' rows.

The run set is fixed at connect: a run started later is seen by the next
connect. The scanner cannot push ``run_id`` filters into SQLite, so a
running run costs a scan of each table it is read from; finished runs cost
a Parquet read of their own rows only.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from simlab import columnar, columnar_pack
from simlab.analytics.extensions import literal
from simlab.analytics.views import feed_items_from_json
from simlab.columnar_write import ACTIONS
from simlab.sqlite_arrow import identifier

LIVE = "sim_sqlite"


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """The attached file's tables and views: name -> [(column, DuckDB type)] in order."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = $db ORDER BY table_name, column_index",
        {"db": LIVE},
    ).fetchall():
        found.setdefault(table, []).append((column, kind))
    return found


class Stored:
    """Where a connection reads finished runs: packs, and the copies of runs in none."""

    def __init__(self, path: Path, manifests: dict) -> None:
        self.path = path
        self.packs = columnar_pack.current_packs(path, manifests)
        packed = {run for pack in self.packs for run in pack.runs}
        self.own = {r: m for r, m in sorted(manifests.items()) if r not in packed}

    def selects(self, table: str, run_files: dict[str, str], select: str) -> list[str]:
        """``SELECT {select}`` parts over the stored files of ``table``.

        Args:
            table: a run table, or :data:`simlab.columnar_pack.ITEMS`.
            run_files: the file of ``table`` in each own copy, by run id.
            select: the select list.
        """
        files = [columnar.run_dir(self.path, run) / f for run, f in run_files.items()]
        parts = []
        for pack in self.packs:
            file = pack.file(table)
            if file is not None and pack.complete:
                files.append(file)
            elif file is not None:  # some of its runs went stale: read only the others
                runs = ", ".join(literal(r) for r in pack.runs)
                parts.append(f"SELECT {select} FROM read_parquet({literal(file)}) "
                             f"WHERE run_id IN ({runs})")  # fmt: skip
        if files:
            listed = ", ".join(literal(f) for f in files)
            parts.insert(0, f"SELECT {select} FROM read_parquet([{listed}])")
        return parts


def _run_table_sql(
    stored: Stored, table: str, columns: list[tuple[str, str]], live: list[str]
) -> str:
    typed = ", ".join(f"CAST({identifier(c)} AS {t}) AS {identifier(c)}" for c, t in columns)
    own = {
        run: entry["file"]
        for run, manifest in stored.own.items()
        if (entry := manifest["tables"].get(table)) and entry["file"]
    }
    parts = stored.selects(table, own, typed)
    if live:
        names = ", ".join(identifier(c) for c, _ in columns)
        runs = ", ".join(literal(r) for r in live)
        parts.append(f"SELECT {names} FROM {LIVE}.{identifier(table)} WHERE run_id IN ({runs})")
    if not parts:
        nulls = ", ".join(f"CAST(NULL AS {t}) AS {identifier(c)}" for c, t in columns)
        parts.append(f"SELECT {nulls} LIMIT 0")
    return " UNION ALL ".join(parts)


def _feed_items_sql(stored: Stored, live: list[str]) -> str:
    """The ``feed_items`` view: stored items of finished runs, the JSON of the others."""
    own, parsed = {}, list(live)
    for run, manifest in stored.own.items():
        items = manifest["feed_items"]
        if items["file"]:
            own[run] = items["file"]
        elif items["rows"] is None:  # feeds that are not arrays of strings: not stored
            parsed.append(run)
    select = "run_id, turn_number, agent_handle, CAST(rank AS BIGINT) AS rank, post_id"
    parts = stored.selects(columnar_pack.ITEMS, own, select)
    if parsed or not parts:
        runs = ", ".join(literal(r) for r in parsed) or "NULL"
        parts.append(feed_items_from_json(f" WHERE run_id IN ({runs})"))
    return " UNION ALL ".join(parts)


TURN_COUNTS = "_simlab_turn_counts"  # internal: only the default path has it


def _stored_turn_counts(manifests: dict) -> pa.Table:
    """The manifests' action counts per turn as one table (run_id, turn_number, action, n).

    Built from one integer array per run and action table, with the run and
    action columns as dictionary indices, so no Python object is made per row.
    """
    runs, actions = sorted(manifests), list(ACTIONS.values())
    blocks, run_codes, action_codes = [], [], []
    for code, run in enumerate(runs):
        for table, pairs in manifests[run]["turn_counts"].items():
            block = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
            blocks.append(block)
            run_codes.append(np.full(len(block), code, dtype=np.int32))
            action_codes.append(np.full(len(block), actions.index(ACTIONS[table]), np.int32))
    pairs = np.concatenate(blocks) if blocks else np.empty((0, 2), dtype=np.int64)

    def strings(codes: list[np.ndarray], names: list[str]) -> pa.Array:
        indices = np.concatenate(codes) if codes else np.empty(0, dtype=np.int32)
        return pa.DictionaryArray.from_arrays(indices, pa.array(names, pa.string())).cast(
            pa.string()
        )

    columns = [
        strings(run_codes, runs),
        pa.array(pairs[:, 0]),
        strings(action_codes, actions),
        pa.array(pairs[:, 1]),
    ]
    return pa.table(columns, names=["run_id", "turn_number", "action", "n"])


def _create_turn_counts(con: duckdb.DuckDBPyConnection, name: str, manifests: dict, live) -> None:
    """The :data:`TURN_COUNTS` view: stored counts of finished runs, counted for running ones."""
    table = _stored_turn_counts(manifests)
    con.register("_simlab_stored_batch", table)
    con.execute("CREATE TABLE _simlab_stored_turn_counts AS SELECT * FROM _simlab_stored_batch")
    con.unregister("_simlab_stored_batch")
    parts = ["SELECT * FROM _simlab_stored_turn_counts"]
    runs = ", ".join(literal(r) for r in live)
    parts += [
        f"SELECT run_id, turn_number, '{action}', count(*) FROM {name}.{table} "
        f"WHERE run_id IN ({runs}) GROUP BY run_id, turn_number"
        for table, action in (ACTIONS.items() if live else ())
    ]
    con.execute(f"CREATE VIEW {TURN_COUNTS} AS {' UNION ALL '.join(parts)}")


def create_catalog(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> str:
    """Build catalog ``name`` over the file attached as :data:`LIVE` (see module docstring).

    Writes the copies that are missing or stale first (:func:`simlab.columnar.current_copies`).

    Returns:
        The SQL of the connection's ``feed_items`` view
        (:func:`simlab.analytics.views.create_views`).
    """
    manifests, live = columnar.current_copies(path)
    stored = Stored(path, manifests)
    con.execute("SET parquet_metadata_cache = true")
    con.execute(f"ATTACH ':memory:' AS {name}")
    for table, columns in _columns(con).items():
        if "run_id" in (c for c, _ in columns):
            sql = _run_table_sql(stored, table, columns, live)
        else:
            sql = f"SELECT * FROM {LIVE}.{identifier(table)}"
        con.execute(f"CREATE VIEW {name}.{identifier(table)} AS {sql}")
    _create_turn_counts(con, name, manifests, live)
    return _feed_items_sql(stored, live)
