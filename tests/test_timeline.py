"""Time alignment of mixed sources: init --start, aligned init, one-line warnings, doctor."""

from __future__ import annotations

from pathlib import Path

from simlab.db import make_engine
from simlab.population import timeline

from .conftest import run_simlab

DATA = Path(__file__).parent / "data" / "bluesky"
FILES = [str(DATA / "profile_new_handle.json"), str(DATA / "author_feed.json")]


def _lines(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


def test_init_start_moves_the_synthetic_window(tmp_path):
    db = tmp_path / "s.db"
    done = run_simlab("init", "--agents", "20", "--posts", "40", "--start", "2025-03-01T00:00:00Z",
                      "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (window,) = timeline.source_windows(make_engine(db))
    assert window.source == "synthetic" and window.posts == 40
    assert "2025-03-01T00:00:00" <= window.first < window.last < "2025-03-08T00:00:00"
    bad = run_simlab("init", "--start", "yesterday", "--db", str(tmp_path / "bad.db"))
    assert bad.returncode == 2 and "start" in bad.stderr
    assert not (tmp_path / "bad.db").exists()


def test_init_after_an_import_aligns_to_the_imported_window(tmp_path):
    db = tmp_path / "m.db"
    assert run_simlab("import", "bluesky", *FILES, "--db", str(db)).returncode == 0
    done = run_simlab("init", "--agents", "20", "--posts", "40", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert (
        "synthetic posts start at the first imported post: 2025-03-04T09:02:40+00:00" in done.stdout
    )
    assert not _lines(done.stdout, "warning")
    engine = make_engine(db)
    windows = {w.source: w for w in timeline.source_windows(engine)}
    assert windows["synthetic"].first >= windows["bluesky"].first
    assert timeline.unserved_sources(engine, 3, 1.0, 0.5, 20) == []
    again = run_simlab("init", "--agents", "20", "--posts", "40", "--db", str(db))
    assert again.returncode == 2 and "already has" in again.stderr


def test_misaligned_sources_warn_in_one_line_and_doctor_shows_them(tmp_path):
    db = tmp_path / "x.db"
    assert run_simlab("init", "--agents", "20", "--posts", "200", "--db", str(db)).returncode == 0
    imported = run_simlab("import", "bluesky", *FILES, "--db", str(db))
    assert imported.returncode == 0, imported.stderr
    (warning,) = _lines(imported.stdout, "warning")
    assert (
        "bluesky posts (2025-03-04..2025-03-06) end before synthetic posts (2026-01-05" in warning
    )
    ran = run_simlab("run", "--turns", "2", "--db", str(db))
    assert ran.returncode == 0, ran.stderr
    (warning,) = _lines(ran.stderr, "warning")
    assert "this run would serve no posts of bluesky (2025-03-04..2025-03-06)" in warning
    doctor = run_simlab("doctor", "--db", str(db))
    assert (
        "posts from bluesky: 9, 2025-03-04T09:02:40+00:00 .. 2025-03-06T18:30:00+00:00"
        in doctor.stdout
    )
    assert "posts from synthetic: 200, 2026-01-05" in doctor.stdout
