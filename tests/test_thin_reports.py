"""Reports that never crash: thin selections give notes in place of charts and intervals.

One database holds every thin case: a one-arm comparison, an interrupted
comparison (stopped through ``on_progress``: one arm lost a replicate, so the
arms are unpaired), a comparison without runs, and a copy in which two metrics
have no value on any turn.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from simlab import analytics, figures, report, report_sections
from simlab.compare import CompareConfig, compare
from simlab.errors import InputError

from .conftest import copy_database, run_simlab, synthetic_database
from .test_notebooks import run_notebook

EVIL_ID = "../../escaped"
UNDEFINED = ("turn.engagement.rate", "turn.exposure.cross_cutting_share", "run.engagement.rate")


@dataclass(frozen=True)
class Thin:
    db: Path
    undefined_db: Path  # the same, with UNDEFINED metrics null on every turn
    one_arm: str
    interrupted: str
    paired: str
    empty: str
    loose_run: str


def _stop_at(label_prefix: str):
    def on_progress(label: str, done: int, total: int) -> None:
        if label.startswith(label_prefix):
            raise KeyboardInterrupt  # the notebook's stop button

    return on_progress


@pytest.fixture(scope="module")
def thin(tmp_path_factory) -> Thin:
    folder = tmp_path_factory.mktemp("thin")
    db = folder / "simlab.db"
    synthetic_database(db, agents=30, posts=150, seed=2)
    run = {"turns": 2}
    one = compare(CompareConfig(feeds=["popularity"], replicates=2, seed=1, run=run), db, jobs=1)
    paired = CompareConfig(feeds=["chronological", "popularity"], replicates=2, seed=1, run=run)
    done = compare(paired, db, jobs=1)
    with pytest.raises(KeyboardInterrupt):  # popularity #0 is interrupted, #1 never starts
        compare(paired, db, jobs=1, on_progress=_stop_at("popularity #0"))
    with sqlite3.connect(db) as con:
        interrupted = con.execute(
            "SELECT comparison_id FROM comparisons ORDER BY created_at DESC LIMIT 1"
        ).fetchone()[0]
        assert con.execute(
            "SELECT count(*) FROM comparison_runs WHERE comparison_id = ?", (interrupted,)
        ).fetchone() == (3,)
        con.execute(
            "INSERT INTO comparisons VALUES ('nothing0', '{\"feeds\": [\"random\"]}', "
            "'2030-01-01T00:00:00+00:00')"
        )
        # a stored id that would escape reports/ if it became a path as it is
        con.execute(
            "UPDATE comparisons SET comparison_id = ? WHERE comparison_id = ?",
            (EVIL_ID, one.comparison_id),
        )
        con.execute(
            "UPDATE comparison_runs SET comparison_id = ? WHERE comparison_id = ?",
            (EVIL_ID, one.comparison_id),
        )
        loose = con.execute(
            "SELECT run_id FROM comparison_runs WHERE comparison_id = ? AND replicate = 0",
            (EVIL_ID,),
        ).fetchone()[0]
    undefined = copy_database(db, folder / "undefined.db")
    with sqlite3.connect(undefined) as con:
        for key in UNDEFINED:
            table = "turn_metrics" if key.startswith("turn.") else "run_metrics"
            con.execute(
                f"UPDATE {table} SET metrics = json_set(metrics, ?, json('null'))",
                (f'$."{key}"',),
            )
    return Thin(db, undefined, EVIL_ID, interrupted, done.comparison_id, "nothing0", loose)


def _is_note(chart: alt.TopLevelMixin, fragment: str) -> bool:
    spec = chart.to_dict()
    rows = [row for dataset in spec.get("datasets", {}).values() for row in dataset]
    notes = [str(row.get("note", "")) for row in rows]
    return spec.get("mark", {}).get("type") == "text" and any(fragment in n for n in notes)


# --- figures and the summary ---------------------------------------------------------


def _report_figures(con, chosen: analytics.Selection) -> dict[str, alt.TopLevelMixin]:
    """The charts of every report section, by file name."""
    _, sections = report_sections.build_sections(con, chosen)
    return {name: figure.chart for name, figure in report_sections.all_figures(sections).items()}


def test_one_arm_gives_a_note_for_the_difference(thin):
    with analytics.connect(thin.db) as con:
        drawn = _report_figures(con, analytics.Selection(comparison_id=thin.one_arm))
        summary = analytics.summary(con, comparison_id=thin.one_arm)
    assert _is_note(drawn["difference"], "Only one arm (popularity)")
    assert not _is_note(drawn["action_mix"], "No ")  # the other charts still draw
    assert "nothing to compare" in analytics.headline(summary)
    table = analytics.summary_table(summary)
    assert set(table["Difference 95% CI"]) == {"baseline"}


def test_a_comparison_without_runs_is_all_notes(thin):
    with analytics.connect(thin.db) as con:
        drawn = _report_figures(con, analytics.Selection(comparison_id=thin.empty))
        summary = analytics.summary(con, comparison_id=thin.empty)
        assert analytics.completed_turns(con, comparison_id=thin.empty) == 0
        assert thin.empty in set(analytics.comparisons(con)["comparison_id"])
    assert summary.empty and "No metrics recorded" in analytics.headline(summary)
    assert all(_is_note(chart, "No ") for chart in drawn.values()), list(drawn)
    for chart in drawn.values():
        chart.to_dict()


def test_metrics_without_any_value_become_notes(thin):
    with analytics.connect(thin.undefined_db) as con:
        bands = analytics.metric_bands(con, comparison_id=thin.paired, key=UNDEFINED[0])
        drawn = figures.metric_charts(con, comparison_id=thin.paired, keys=UNDEFINED[:2])
        summary = analytics.summary(con, comparison_id=thin.paired)
    assert len(bands) > 0 and bands["mean"].isna().all() and (bands["n"] == 0).all()
    assert all(_is_note(chart, "every value is undefined") for chart in drawn)
    difference = figures.difference(summary).to_dict()
    assert "No difference for: Engagement rate" in " ".join(difference["title"]["subtitle"])
    table = analytics.summary_table(summary).set_index(["Metric", "Feed"])
    row = table.loc[("Engagement rate (actions per impression)", "popularity")]
    assert (row["95% CI"], row["Difference 95% CI"]) == ("no values", "no values")


def test_an_interrupted_comparison_is_unpaired_not_broken(thin):
    with analytics.connect(thin.db) as con:
        summary = analytics.summary(con, comparison_id=thin.interrupted)
        drawn = _report_figures(con, analytics.Selection(comparison_id=thin.interrupted))
    popularity = summary[summary["arm"] == "popularity"]
    # the stop interrupts popularity #0 mid-run (marked failed): at most one run has values
    assert (popularity["n"] <= 1).all() and popularity["diff_low"].isna().all()
    table = analytics.summary_table(summary)
    notes = table.loc[table["Feed"] == "popularity"]
    assert set(notes["Difference 95% CI"]) <= {"not paired", "no values"}
    assert set(notes["95% CI"]) <= {"needs 2+ runs", "no values"}
    assert "not paired" in set(notes["Difference 95% CI"])
    for chart in drawn.values():
        chart.to_dict()


@pytest.mark.parametrize("case", ["one_arm", "interrupted", "empty"])
def test_compare_feeds_notebook_runs_on_thin_comparisons(thin, monkeypatch, case):
    found = run_notebook(
        "compare_feeds", monkeypatch, "--db", str(thin.db), "--comparison", getattr(thin, case)
    )
    assert isinstance(found["difference_chart"], alt.TopLevelMixin)
    for name in ("action_mix_chart", "actions_chart", "exposure_chart", "follow_chart"):
        found[name].to_dict()


def test_compare_feeds_notebook_runs_on_undefined_metrics(thin, monkeypatch):
    found = run_notebook(
        "compare_feeds", monkeypatch, "--db", str(thin.undefined_db), "--comparison", thin.paired
    )
    assert len(found["metric_charts"]) == len(found["metric_picker"].value)


# --- simlab report ---------------------------------------------------------------------


def test_safe_name_keeps_ids_inside_one_folder():
    assert report.safe_name("26df45d544ee") == "26df45d544ee"
    for hostile in ("../../x", "a/b", "..", "", " x y ", "C:\\x"):
        name = report.safe_name(hostile)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name
    assert report.safe_name("a/b") != report.safe_name("a_b")


def test_report_with_nothing_to_report_is_one_line_and_writes_nothing(thin, tmp_path):
    result = run_simlab(
        "report", "--db", str(thin.db), "--comparison", thin.empty, "--out", str(tmp_path / "r")
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "has no completed turn; nothing to report" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_one_arm_report_with_a_hostile_id_stays_in_reports(thin, tmp_path):
    result = run_simlab("report", "--db", str(thin.db), "--comparison", thin.one_arm, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "reports").iterdir()
    assert folder.name == report.safe_name(EVIL_ID) and not (tmp_path.parent / "escaped").exists()
    svg = (folder / "charts" / "difference.svg").read_text(encoding="utf-8")
    assert "Only one arm (popularity)" in svg
    assert (folder / "report.html").is_file() and (folder / "summary.csv").is_file()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Only one arm (popularity)" in page and "1 arms" not in page
    assert "arms: popularity" in page  # the design caption names the single arm
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left


def test_report_refuses_a_foreign_folder_unless_forced(thin, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("do not lose me", encoding="utf-8")
    args = (
        "report",
        "--db",
        str(thin.undefined_db),
        "--comparison",
        thin.paired,
        "--out",
        str(out),
    )
    refused = run_simlab(*args)
    assert refused.returncode == 2
    assert "is not empty and holds no simlab report" in refused.stderr.strip().splitlines()[0]
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    forced = run_simlab(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (out / "thesis.tex").read_text(encoding="utf-8") == "do not lose me"
    svg = (out / "charts" / "metric_engagement_rate.svg").read_text(encoding="utf-8")
    assert "every value is undefined" in svg


def test_an_earlier_report_is_replaced_whole(thin, tmp_path):
    out = tmp_path / "again"
    out.mkdir()
    (out / "index.md").write_text("# simlab report: old\n", encoding="utf-8")
    (out / "stale.png").write_bytes(b"old")
    made = report.write_report(thin.db, out, comparison_id=thin.interrupted)
    assert not (out / "stale.png").exists()
    csv = pd.read_csv(made.summary_csv)
    assert csv.loc[csv["arm"] == "popularity", "diff_low"].isna().all()
    assert report.is_report(out)


def test_a_file_as_out_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is a file, not a folder"):
        report.check_out_dir(path)


def test_a_failed_report_leaves_the_folder_as_it_was(thin, tmp_path, monkeypatch):
    out = tmp_path / "kept"
    out.mkdir()
    (out / "index.md").write_text("# simlab report: earlier\n", encoding="utf-8")

    def broken_save(chart, path):
        raise RuntimeError("disk full (test)")

    monkeypatch.setattr(report.charts, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        report.write_report(thin.db, out, comparison_id=thin.paired)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]  # no scratch folder left
    assert [p.name for p in out.iterdir()] == ["index.md"]
