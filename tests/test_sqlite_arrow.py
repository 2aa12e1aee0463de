"""SQLite rows into Arrow without pandas: the arrays equal ``pa.array``'s, for every affinity."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest

from simlab.sqlite_arrow import batches, column_array, table_schema

from .conftest import REPO

ROWS = [
    (1, 1.5, "plain", b"\x00\x01"),
    (None, None, None, None),
    (-(2**62), float("inf"), "", b""),
    (7, 2.0, "é漢 — ünïcode", b"\xff"),
    (0, -0.25, None, None),
]


@pytest.fixture
def source(tmp_path) -> sqlite3.Connection:
    connection = sqlite3.connect(tmp_path / "rows.db")
    connection.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB)")
    connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    connection.commit()
    yield connection
    connection.close()


def test_batches_equal_pa_array_of_the_same_rows(source, monkeypatch):
    schema = table_schema(source, "t")
    assert schema.types == [pa.int64(), pa.float64(), pa.string(), pa.binary()]
    monkeypatch.setattr("simlab.sqlite_arrow.BATCH_ROWS", 2)  # NULL-only and mixed batches
    got = pa.Table.from_batches(list(batches(source, "SELECT * FROM t", schema)))
    want = pa.table(
        [
            pa.array(list(column), type=f.type)
            for column, f in zip(zip(*ROWS, strict=True), schema, strict=True)
        ],
        schema=schema,
    )
    got.validate(full=True)
    assert got.equals(want)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ((1, "x"), pa.int64()),
        (("a", 3), pa.string()),
        (("a", None, 3), pa.string()),
        ((b"a", "s"), pa.binary()),
    ],
)
def test_a_value_of_another_type_is_an_error(values, kind):
    with pytest.raises((TypeError, ValueError)):
        column_array(values, kind)


def test_copying_a_table_does_not_import_pandas(source, tmp_path):
    script = textwrap.dedent(
        """
        import sqlite3, sys
        from simlab.sqlite_arrow import batches, table_schema
        source = sqlite3.connect(sys.argv[1])
        schema = table_schema(source, "t")
        rows = sum(b.num_rows for b in batches(source, "SELECT * FROM t", schema))
        print(rows, "pandas" in sys.modules)
        """
    )
    found = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "rows.db")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert found.stdout.split() == [str(len(ROWS)), "False"]
