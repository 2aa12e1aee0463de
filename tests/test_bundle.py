"""Run bundles: export, verify, import (idempotent), tampering refused, reports unchanged."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    create_engine,
    insert,
    select,
)

from simlab import analytics
from simlab.bundle import export_bundle, import_bundle
from simlab.bundle.manifest import MANIFEST, arrow_schema
from simlab.bundle.scope import (
    NOT_EXPORTED,
    Selection,
    bundle_tables,
    row_filter,
    scope_of,
    surrogate_key,
)
from simlab.compare import CompareConfig, compare
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.engine import run
from simlab.errors import InputError
from simlab.schema import metadata

from .conftest import copy_database, init_database, run_simlab

NOW = "2026-01-01T00:00:00+00:00"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dump(db, tables) -> dict[str, list[tuple]]:
    """Every row of ``tables``, sorted, as plain tuples (the comparison the round trip needs)."""
    engine = create_engine(db) if "://" in str(db) else make_engine(db, must_exist=True)
    try:
        with engine.connect() as connection:
            return {
                t.name: sorted((tuple(row) for row in connection.execute(select(t))), key=repr)
                for t in tables
            }
    finally:
        engine.dispose()


def _summary_csv(db: Path, comparison_id: str) -> str:
    con = analytics.connect(db)
    try:
        # the call simlab report makes for summary.csv
        return analytics.summary(con, comparison_id=comparison_id).to_csv(index=False)
    finally:
        con.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A database with a 2-arm x 2-replicate comparison, one loose run and a failure row."""
    folder = tmp_path_factory.mktemp("bundle")
    db = init_database(folder / "source.db", agents=40, posts=200, seed=4)
    spec = CompareConfig(
        feeds=["chronological", "popularity"], replicates=2, seed=5, run={"turns": 3}
    )
    result = compare(spec, str(db), jobs=2)
    assert not result.failures
    loose = run(RunConfig(feed={"name": "random"}, turns=2, seed=9), str(db))
    engine = make_engine(db)
    with engine.begin() as connection:  # a failure row with a database-local id that has gaps
        connection.execute(
            insert(metadata.tables["run_failures"]),
            {"failure_id": 7, "run_id": result.run_ids[("popularity", 1)], "turn_number": 1}
            | {"error": "an earlier attempt failed", "failed_at": NOW},
        )
    engine.dispose()
    return {"db": db, "comparison": result.comparison_id, "runs": result.run_ids, "loose": loose}


@pytest.fixture(scope="module")
def bundle(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "bundle"
    result = run_simlab(
        "export", "--comparison", source["comparison"], "--out", str(out), "--db", str(source["db"])
    )
    assert result.returncode == 0, result.stderr
    return out


def test_every_table_is_exported_or_excluded_with_a_reason():
    selection = Selection(("r",), "c")
    exported = {t.name for t in bundle_tables(metadata, selection)}
    for table in metadata.tables.values():
        scope = scope_of(table)
        assert scope.reason, table.name
        assert (table.name in exported) != (scope.kind == "excluded"), table.name
        assert scope.kind != "excluded" or NOT_EXPORTED[table.name]
        arrow_schema(table)  # every column has a Parquet type
    assert exported | set(NOT_EXPORTED) == set(metadata.tables)
    surrogates = {surrogate_key(t) for t in metadata.tables.values()} - {None}
    for table in metadata.tables.values():
        for fk in table.foreign_key_constraints:
            targets = {element.column for element in fk.elements}
            assert not targets & surrogates, f"{fk.name} points at a database-local id"


def test_scope_rules_cover_tables_that_do_not_exist_yet(tmp_path):
    """A future table with only a foreign key to a run table, or a nullable run_id, is scoped."""
    meta = MetaData()
    runs = Table("runs", meta, Column("run_id", Text, primary_key=True))
    likes = Table("likes", meta, Column("like_id", Text, primary_key=True), Column("run_id", Text))
    ratings = Table(
        "ratings",
        meta,
        Column("like_id", Text),
        Column("stars", Integer),
        PrimaryKeyConstraint("like_id"),
        ForeignKeyConstraint(["like_id"], ["likes.like_id"], name="fk_ratings_like_id"),
    )
    notes = Table(
        "notes",
        meta,
        Column("note_id", Integer, primary_key=True),
        Column("run_id", Text, nullable=True),
    )
    assert scope_of(ratings).kind == "run" and scope_of(ratings).via == "fk_ratings_like_id"
    engine = create_engine(f"sqlite:///{tmp_path / 'future.db'}")
    meta.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(runs), [{"run_id": "r1"}, {"run_id": "r2"}])
        connection.execute(
            insert(likes), [{"like_id": "l1", "run_id": "r1"}, {"like_id": "l2", "run_id": "r2"}]
        )
        connection.execute(
            insert(ratings), [{"like_id": "l1", "stars": 5}, {"like_id": "l2", "stars": 1}]
        )
        connection.execute(
            insert(notes),
            [
                {"note_id": 1, "run_id": "r1"},
                {"note_id": 2, "run_id": "r2"},
                {"note_id": 3, "run_id": None},
            ],
        )
        chosen = Selection(("r1",))
        picked = connection.execute(
            select(ratings.c.stars).where(row_filter(ratings, chosen))
        ).all()
        kept = (
            connection.execute(
                select(notes.c.note_id).where(row_filter(notes, chosen)).order_by(notes.c.note_id)
            )
            .scalars()
            .all()
        )
    assert picked == [(5,)]
    assert kept == [1, 3]  # its run, and the row that belongs to no run
    engine.dispose()


def test_only_the_llm_cache_entries_of_exported_runs_go_in(tmp_path):
    """llm_cache holds every study's prompts: a bundle takes the entries its runs' calls used."""
    assert scope_of(metadata.tables["llm_cache"]).referenced_by == ("llm_calls", "cache_key")
    meta = MetaData()
    runs = Table("runs", meta, Column("run_id", Text, primary_key=True))
    calls = Table(
        "llm_calls",
        meta,
        Column("call_id", Integer, primary_key=True),
        Column("run_id", Text),
        Column("cache_key", Text, nullable=True),
    )
    cache = Table(
        "llm_cache", meta, Column("cache_key", Text, primary_key=True), Column("content", Text)
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    meta.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(runs), [{"run_id": "r1"}, {"run_id": "r2"}])
        connection.execute(
            insert(calls),
            [
                {"call_id": 1, "run_id": "r1", "cache_key": "k1"},
                {"call_id": 2, "run_id": "r2", "cache_key": "k2"},
                {"call_id": 3, "run_id": "r1", "cache_key": None},  # the cache was off
            ],
        )
        connection.execute(
            insert(cache), [{"cache_key": k, "content": "answer"} for k in ("k1", "k2", "k3")]
        )
        picked = connection.execute(
            select(cache.c.cache_key).where(row_filter(cache, Selection(("r1",))))
        ).all()
    engine.dispose()
    assert picked == [("k1",)]  # not r2's entry, not an entry no exported run used


def test_manifest_lists_every_file_with_rows_and_sha256(source, bundle):
    manifest = json.loads((bundle / MANIFEST).read_text())
    assert manifest["schema_revision"] and manifest["simlab_version"]
    assert manifest["selection"]["comparison_id"] == source["comparison"]
    assert sorted(manifest["selection"]["run_ids"]) == sorted(source["runs"].values())
    files = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert on_disk - {MANIFEST} == set(files)
    for path, entry in files.items():
        assert entry["sha256"] == _sha(bundle / path)
    import pyarrow.parquet as pq

    for entry in files.values():
        if entry["table"]:
            assert pq.ParquetFile(bundle / entry["path"]).metadata.num_rows == entry["rows"]
    configs = {p for p in files if p.startswith("configs/runs/")}
    assert configs == {f"configs/runs/{r}.json" for r in source["runs"].values()}
    stored = json.loads((bundle / "configs" / "comparison.json").read_text())
    assert stored["feeds"] == ["chronological", "popularity"]
    assert files["tables/runs.parquet"]["rows"] == 4  # not the loose run
    assert files["tables/run_failures.parquet"]["rows"] == 1


def test_round_trip_gives_identical_rows_and_the_same_report_summary(source, bundle, tmp_path):
    target = tmp_path / "fresh.db"
    result = run_simlab("import", "bundle", str(bundle), "--db", str(target))
    assert result.returncode == 0, result.stderr
    selection = Selection(tuple(source["runs"].values()), source["comparison"])
    tables = bundle_tables(metadata, selection)
    engine = make_engine(source["db"], must_exist=True)
    with engine.connect() as connection:
        expected = {
            t.name: sorted(
                (tuple(r) for r in connection.execute(select(t).where(row_filter(t, selection)))),
                key=repr,
            )
            for t in tables
        }
    engine.dispose()
    actual = _dump(target, tables)
    assert actual == expected
    assert len(actual["generated_feeds"]) > 0 and len(actual["agent"]) == 40
    assert actual["run_failures"][0][0] == 7  # the database-local id survives when free
    original = _summary_csv(source["db"], source["comparison"])
    assert "popularity" in original and original.count("\n") > 4
    assert _summary_csv(target, source["comparison"]) == original


def test_importing_twice_adds_nothing(bundle, tmp_path):
    target = tmp_path / "twice.db"
    first = import_bundle(bundle, target)
    before = _dump(target, metadata.sorted_tables)
    second = import_bundle(bundle, target)
    assert sum(first.added.values()) > 1000 and sum(second.added.values()) == 0
    assert second.present == {name: first.added[name] for name in first.added}
    assert _dump(target, metadata.sorted_tables) == before


def test_a_run_bundle_imports_into_its_own_database_as_a_no_op(source, tmp_path):
    loose = source["loose"]
    out = tmp_path / "loose"
    result = run_simlab("export", loose, "--out", str(out), "--db", str(source["db"]))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / MANIFEST).read_text())
    tables = {f["table"] for f in manifest["files"] if f["table"]}
    assert "comparisons" not in tables and {"runs", "agent", "likes"} <= tables
    copy = copy_database(source["db"], tmp_path / "copy.db")
    before = _dump(copy, metadata.sorted_tables)
    assert sum(import_bundle(out, copy).added.values()) == 0
    assert _dump(copy, metadata.sorted_tables) == before


def test_export_is_byte_for_byte_reproducible(source, bundle, tmp_path):
    again = export_bundle(source["db"], tmp_path / "again", comparison_id=source["comparison"])
    assert (again.folder / MANIFEST).read_text() == (bundle / MANIFEST).read_text()


def _flip_byte(folder: Path) -> None:
    path = folder / "tables" / "likes.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_manifest(change):
    def apply(folder: Path) -> None:
        manifest = json.loads((folder / MANIFEST).read_text())
        change(manifest)
        (folder / MANIFEST).write_text(json.dumps(manifest))

    return apply


def _set_rows(manifest):
    next(f for f in manifest["files"] if f["table"] == "likes")["rows"] += 1


def _twice(manifest):
    manifest["files"].append(next(f for f in manifest["files"] if f["table"] == "likes"))


def _escape(manifest):
    manifest["files"][0]["path"] = "../outside.json"


TAMPERING = {
    "flipped byte": (_flip_byte, "does not match its sha256"),
    "row count": (_edit_manifest(_set_rows), "the manifest says"),
    "missing file": (lambda f: (f / "configs" / "comparison.json").unlink(), "missing"),
    "extra file": (lambda f: (f / "tables" / "extra.parquet").write_bytes(b"x"), "not listed"),
    "unknown revision": (
        _edit_manifest(lambda m: m.update(schema_revision="9999_future")),
        "unknown to this simlab",
    ),
    "path outside": (_edit_manifest(_escape), "outside the bundle folder"),
    "not a manifest": (lambda f: (f / MANIFEST).write_text("{"), "not valid JSON"),
    "files not a list": (_edit_manifest(lambda m: m.update(files={"a": 1})), "list of file"),
    "table twice": (_edit_manifest(_twice), "listed twice"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_a_tampered_bundle_is_refused_and_nothing_is_written(source, bundle, tmp_path, kind):
    tamper, fragment = TAMPERING[kind]
    copy = tmp_path / "tampered"
    shutil.copytree(bundle, copy)
    tamper(copy)
    target = copy_database(source["db"], tmp_path / "target.db")
    digest = _sha(target)
    with pytest.raises(InputError, match=re.escape(fragment)) as refused:
        import_bundle(copy, target)
    assert "\n" not in str(refused.value)
    assert _sha(target) == digest
    fresh = tmp_path / "never.db"
    with pytest.raises(InputError):
        import_bundle(copy, fresh)
    assert not fresh.exists()


def test_the_command_line_refuses_a_tampered_bundle_in_one_line(source, bundle, tmp_path):
    copy = tmp_path / "tampered"
    shutil.copytree(bundle, copy)
    _flip_byte(copy)
    target = copy_database(source["db"], tmp_path / "target.db")
    digest = _sha(target)
    result = run_simlab("import", "bundle", str(copy), "--db", str(target))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: bundle: tables/likes.parquet does not match its sha256 in the manifest (tampered?)"
    ]
    assert _sha(target) == digest


def test_a_bundle_that_does_not_fit_the_database_is_refused(bundle, tmp_path):
    other = init_database(tmp_path / "other.db", agents=40, posts=200, seed=8)
    digest = _sha(other)
    before = _dump(other, metadata.sorted_tables)
    with pytest.raises(InputError, match="does not fit this database|clash") as refused:
        import_bundle(bundle, other)
    assert "\n" not in str(refused.value)
    assert _sha(other) == digest and _dump(other, metadata.sorted_tables) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["nope"], "unknown run id 'nope'"),
        (["--comparison", "nope"], "unknown comparison 'nope'"),
        ([], "give RUN_ID... or --comparison ID"),
    ],
)
def test_bad_export_requests_write_nothing(source, tmp_path, args, fragment):
    out = tmp_path / "out"
    result = run_simlab("export", *args, "--out", str(out), "--db", str(source["db"]))
    assert result.returncode == 2 and fragment in result.stderr, result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_export_refuses_a_folder_that_is_not_empty(source, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = run_simlab(
        "export", source["loose"], "--out", str(tmp_path), "--db", str(source["db"])
    )
    assert result.returncode == 2 and "not an empty folder" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_bundle_round_trip_through_postgresql_is_byte_identical(source, bundle, pg_url, tmp_path):
    """Import into PostgreSQL, export from it again: the same Parquet bytes as from SQLite."""
    result = run_simlab("import", "bundle", str(bundle), "--db", pg_url)
    assert result.returncode == 0, result.stderr
    assert len(_dump(pg_url, [metadata.tables["runs"]])["runs"]) == 4
    again = tmp_path / "from_pg"
    result = run_simlab(
        "export", "--comparison", source["comparison"], "--out", str(again), "--db", pg_url
    )
    assert result.returncode == 0, result.stderr
    assert (again / MANIFEST).read_text() == (bundle / MANIFEST).read_text()
    assert sum(import_bundle(bundle, pg_url).added.values()) == 0
