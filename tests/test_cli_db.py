"""`simlab db ...` through the real command line."""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import REPO, run_simlab


def test_upgrade_current_downgrade(tmp_path):
    db = tmp_path / "new.db"
    result = run_simlab("db", "upgrade", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert run_simlab("db", "current", "--db", str(db)).stdout.strip().endswith("(head)")
    assert run_simlab("db", "downgrade", "base", "--db", str(db)).returncode == 0
    assert "base" in run_simlab("db", "current", "--db", str(db)).stdout


def test_db_from_environment_variable(tmp_path):
    db = tmp_path / "env.db"
    result = run_simlab("db", "upgrade", env={"SIMLAB_DB": str(db)})
    assert result.returncode == 0, result.stderr
    assert db.is_file()


def _assert_bad_input(result, fragment):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_directory_is_refused(tmp_path):
    _assert_bad_input(run_simlab("db", "upgrade", "--db", str(tmp_path)), "is a directory")


def test_missing_folder_is_refused_and_nothing_created(tmp_path):
    target = tmp_path / "nope" / "x.db"
    _assert_bad_input(run_simlab("db", "upgrade", "--db", str(target)), "does not exist")
    assert not target.parent.exists()


def test_unwritable_location_is_refused(tmp_path):
    _assert_bad_input(run_simlab("db", "upgrade", "--db", "/proc/simlab-test.db"), "cannot open")
    assert not Path("/proc/simlab-test.db").exists()


def test_non_sqlite_file_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "notes.db"
    target.write_text("not a database")
    _assert_bad_input(run_simlab("db", "upgrade", "--db", str(target)), "not a SQLite database")
    assert target.read_text() == "not a database"


def test_unknown_revision_is_refused_and_nothing_created(tmp_path):
    target = tmp_path / "x.db"
    _assert_bad_input(run_simlab("db", "upgrade", "bogus", "--db", str(target)), "unknown revision")
    assert not target.exists()


def test_check_and_schema_doc_pass_on_the_committed_tree():
    assert run_simlab("db", "check").returncode == 0
    result = run_simlab("db", "schema-doc", "--check")
    assert result.returncode == 0, result.stdout


def _drifted_copy(tmp_path: Path, old: str, new: str) -> Path:
    copy = tmp_path / "copy"
    for part in ("simlab", "migrations", "docs"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    schema = copy / "simlab" / "schema.py"
    text = schema.read_text()
    assert old in text
    schema.write_text(text.replace(old, new, 1))
    return copy


def test_check_fails_on_a_changed_check_constraint(tmp_path):
    copy = _drifted_copy(tmp_path, '"total_turns > 0"', '"total_turns > 1"')
    result = run_simlab("db", "check", cwd=copy, env={"PYTHONPATH": str(copy)})
    assert result.returncode == 1
    assert "ck_runs_total_turns_gt_0" in result.stdout


def test_check_and_doc_fail_on_a_new_column(tmp_path):
    copy = _drifted_copy(tmp_path, '_text("bio"),', '_text("bio"),\n    _text("pronouns"),')
    result = run_simlab("db", "check", cwd=copy, env={"PYTHONPATH": str(copy)})
    assert result.returncode == 1 and "pronouns" in result.stdout
    # the doc is generated from the migrations, so drift there shows up as a stale doc
    migration = next((copy / "migrations" / "versions").glob("0002_*.py"))
    migration.write_text(migration.read_text().replace('"failed_at"', '"failed_when"'))
    result = run_simlab("db", "schema-doc", "--check", cwd=copy, env={"PYTHONPATH": str(copy)})
    assert result.returncode == 1 and "stale" in result.stdout
