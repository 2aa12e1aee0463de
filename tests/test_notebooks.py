"""The marimo notebooks run end to end (in process, as Jupyter notebooks, under marimo check).

One small database per module: 40 agents, 200 posts, chronological vs popularity,
2 replicates of 3 turns. Notebooks get it the way a user gives it: ``SIMLAB_DB``
or the command line after marimo's ``--``.
"""

from __future__ import annotations

import http.cookiejar
import importlib.util
import math
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import altair as alt
import pandas as pd
import pytest

from simlab import analytics, experiment_form, notebook_launch
from simlab.compare import CompareConfig, compare
from simlab.errors import InputError

from .conftest import REPO, copy_database, synthetic_database
from .test_observatory import evaluate_comparison

NOTEBOOKS = ("compare_feeds", "explore_run", "live_experiment", "new_experiment", "observatory")
ARMS = ["chronological", "popularity"]


@dataclass(frozen=True)
class Study:
    db: Path
    comparison_id: str
    run_ids: dict  # (arm, replicate) -> run id


def build_study(path: Path) -> Study:
    """The test database: a synthetic population and one finished comparison."""
    synthetic_database(path, agents=40, posts=200, seed=1)
    config = CompareConfig(feeds=ARMS, replicates=2, seed=1, run={"turns": 3})
    result = compare(config, str(path), jobs=1)
    assert not result.failures
    evaluate_comparison(path, result.comparison_id)  # for the observatory notebook
    return Study(path, result.comparison_id, result.run_ids)


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Study:
    return build_study(tmp_path_factory.mktemp("notebooks") / "simlab.db")


def run_notebook(
    name: str, monkeypatch, *argv: str, db: Path | None = None, defs=None, outputs=False
):
    """Load ``notebooks/<name>.py`` and run every cell in this process (``app.run()``).

    Returns the cells' definitions, and with ``outputs`` also the cells' outputs first.
    """
    monkeypatch.setattr(sys, "argv", [f"{name}.py", *argv])
    if db is None:
        monkeypatch.delenv("SIMLAB_DB", raising=False)
    else:
        monkeypatch.setenv("SIMLAB_DB", str(db))
    spec = importlib.util.spec_from_file_location(
        f"notebook_{name}", REPO / "notebooks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shown, found = module.app.run(defs=defs)
    return (shown, found) if outputs else found


def comparison_count(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM comparisons").fetchone()[0]


# --- finding and opening notebooks ---------------------------------------------------


def test_names_and_paths():
    assert notebook_launch.names() == sorted(NOTEBOOKS)
    assert notebook_launch.notebook_path("compare_feeds") == REPO / "notebooks" / "compare_feeds.py"
    assert notebook_launch.notebook_path("explore_run.py").is_file()
    with pytest.raises(InputError, match="unknown notebook 'nope'; choose from compare_feeds"):
        notebook_launch.notebook_path("nope")


def test_inputs_keep_ids_as_strings_and_ignore_other_flags(monkeypatch):
    parsed = notebook_launch.inputs(
        ["-f", "kernel.json", "--db", "x.db", "--comparison", "1234e5678901", "--runs", "007, b2"]
    )
    assert parsed == notebook_launch.NotebookInputs("x.db", "1234e5678901", ("007", "b2"))
    assert parsed.kwargs == {"run_ids": ("007", "b2"), "comparison_id": "1234e5678901"}
    assert notebook_launch.inputs(parsed.argv()) == parsed  # what launch and report write
    assert notebook_launch.inputs([]) == notebook_launch.NotebookInputs()
    assert notebook_launch.NotebookInputs().argv() == []
    monkeypatch.setattr(sys, "argv", ["compare_feeds.py", "--comparison", "000123"])
    assert notebook_launch.inputs().comparison_id == "000123"


def test_notebook_command(study, monkeypatch):
    monkeypatch.chdir(study.db.parent)
    command = notebook_launch.notebook_command(
        "compare_feeds", "simlab.db", comparison="c1", runs=["a", "b"], port=2799
    )
    assert command[:6] == [
        sys.executable, "-m", "marimo", "--quiet", "run",
        str(notebook_launch.notebook_path("compare_feeds")),
    ]  # fmt: skip
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "2799"
    assert command[command.index("--token-password-file") + 1] == "-"  # the token: on stdin
    assert "--headless" not in command and "--no-token" not in command
    assert command[command.index("--") :] == [
        "--", "--db", str(study.db), "--comparison", "c1", "--runs", "a,b",
    ]  # fmt: skip
    editor = notebook_launch.notebook_command(
        "explore_run", study.db, port=2799, headless=True, edit=True
    )
    assert editor[4] == "edit" and "--headless" in editor
    monkeypatch.setenv("SIMLAB_DB", str(study.db))
    assert notebook_launch.notebook_command("new_experiment", port=1)[-1] == str(study.db)
    with pytest.raises(InputError, match="does not exist"):
        notebook_launch.notebook_command("compare_feeds", study.db.parent / "missing.db", port=1)
    with pytest.raises(InputError, match="unknown notebook"):
        notebook_launch.notebook_command("missing", study.db, port=1)


def _opened(url: str) -> str:
    """The page at ``url``, keeping cookies (marimo trades the token for one, then redirects)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(url, timeout=10) as reply:
        return reply.read().decode()


def _wait_healthy(process, url: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, "marimo exited"
        try:
            with urllib.request.urlopen(url.split("?")[0] + "health", timeout=2) as reply:
                assert reply.status == 200
                return
        except OSError:
            assert time.monotonic() < deadline, "marimo did not become healthy in 90 s"
            time.sleep(0.3)


@pytest.mark.parametrize("edit", [False, True])
def test_launch_serves_the_notebook_behind_its_token(study, edit):
    served = notebook_launch.launch("compare_feeds", study.db, headless=True, edit=edit)
    try:
        _wait_healthy(served.process, served.url)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?access_token=[\w-]{16,}", served.url)
        assert "auth/login" in _opened(served.url.split("?")[0])  # no token: the login form
        assert "auth/login" not in _opened(served.url)
    finally:
        served.process.terminate()
        served.process.wait(timeout=20)


def test_simlab_notebook_prints_the_url_with_its_token_and_stops_on_ctrl_c(study):
    process = subprocess.Popen(
        [sys.executable, "-m", "simlab", "notebook", "explore_run", "--headless",
         "--db", str(study.db)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        url = re.search(r"http://\S+", line).group(0)
        assert "access_token=" in url and "app (read-only" in line
        _wait_healthy(process, url)
        assert "auth/login" not in _opened(url)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- helpers the notebooks call -------------------------------------------------------


def test_headline_puts_holm_significant_differences_first_by_relative_size():
    nan = math.nan
    rows = [  # key, arm, mean, diff, low, high, p_holm
        ("run.engagement.rate", "chronological", 0.10, 0.0, nan, nan, nan),
        ("run.engagement.rate", "popularity", 0.20, 0.10, -0.5, 0.7, 0.6),
        ("run.engagement.rate", "random", 0.12, 0.02, 0.01, 0.03, 0.01),
        ("turn.exposure.cross_cutting_share", "chronological", 0.40, 0.0, nan, nan, nan),
        ("turn.exposure.cross_cutting_share", "popularity", 0.30, -0.10, -0.12, -0.08, 0.001),
        ("turn.exposure.cross_cutting_share", "random", 0.40, 0.0, -0.01, 0.01, 1.0),
        ("run.opinion.variance_change", "chronological", 0.01, 0.0, nan, nan, nan),
        ("run.opinion.variance_change", "popularity", 0.03, 0.02, 0.01, 0.03, 0.02),
        ("run.opinion.variance_change", "random", 0.01, 0.0, -0.5, 0.5, 1.0),
    ]
    summary = pd.DataFrame(
        [
            (key, arm, 2, mean, mean - 0.1, mean + 0.1, d, lo, hi, p, p, 2, 1)
            for key, arm, mean, d, lo, hi, p in rows
        ],
        columns=["key", "arm", "n", "mean", "ci_low", "ci_high", "diff", "diff_low",
                 "diff_high", "p_value", "p_holm", "units", "populations"],
    )  # fmt: skip
    text = analytics.headline(summary)
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert "Clearest differences to chronological" in text and "m = 6" in text
    assert "replicate noise for this population only" in text
    popularity = [line for line in lines if "**popularity**" in line]
    # significant: -25% cross-cutting, then the change metric (no relative size);
    # +100% engagement is not significant and is named as left out
    assert "cross-cutting exposure" in popularity[0] and "0.1 lower (-25%)" in popularity[0]
    assert "change in leaning variance" in popularity[1] and "%" not in popularity[1]
    assert "Largest effect left out" in text and "+100%" in text
    random = [line for line in lines if "**random**" in line]
    assert len(random) == 1 and "0.02 higher (+20%)" in random[0]
    assert "nothing to compare" in analytics.headline(summary[summary["arm"] == "chronological"])
    untested = analytics.headline(summary.drop(columns=["p_value", "p_holm"]))
    assert "not tested" in untested


def test_summary_table_and_degree_table():
    summary = pd.DataFrame(
        [("run.engagement.rate", "popularity", 3, 0.123456, 0.1, 0.2, 0.05, -0.01, 0.11)],
        columns=["key", "arm", "n", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"],
    )
    row = analytics.summary_table(summary).iloc[0]
    assert row["Metric"] == "Engagement rate (actions per impression)"
    assert (row["Mean"], row["95% CI"], row["Difference 95% CI"]) == (
        0.1235,
        "0.1 to 0.2",
        "-0.01 to 0.11",
    )
    edges = pd.DataFrame(
        {"source": ["a", "b", "c", "a"], "target": ["x", "x", "a", "b"], "turn": [-1, -1, 0, 2]}
    )
    table = analytics.degree_table(edges).set_index("handle")
    assert table.loc["x"].tolist() == [2, 2, 0, 0]
    assert table.loc["a"].tolist() == [0, 1, 2, 1]
    assert list(table.index[:1]) == ["x"]


def test_compare_config_from_form_values():
    values = {
        "feeds": ["random", "chronological"],
        "replicates": 2,
        "turns": 4,
        "agents": 0,
        "seed": 7,
    }
    config = experiment_form.compare_config(values)
    assert (config.feeds, config.replicates, config.seed) == (["random", "chronological"], 2, 7)
    assert config.run == {"turns": 4, "agents": None}
    assert config.total_turns() == 2 * 2 * 4
    assert experiment_form.describe_form(values).startswith(
        "Will run 2 arms (random, chronological) x 2"
    )
    with pytest.raises(InputError, match="feeds: pick at least one"):
        experiment_form.compare_config({**values, "feeds": []})
    with pytest.raises(InputError, match="^replicates: ") as bad:
        experiment_form.compare_config({**values, "replicates": 5000})
    assert "\n" not in str(bad.value)
    assert experiment_form.describe_form({**values, "feeds": []}).startswith("**Cannot run yet:**")


@pytest.mark.parametrize("jobs", [1, 2])
def test_compare_drives_a_progress_bar_on_the_calling_thread(study, tmp_path, jobs):
    import threading

    db = copy_database(study.db, tmp_path / "copy.db")
    config = experiment_form.compare_config(
        {"feeds": ARMS, "replicates": 1, "turns": 2, "agents": 10, "seed": 3}
    )
    calls = []
    result = compare(
        config,
        str(db),
        jobs=jobs,
        on_progress=experiment_form.progress_step(
            lambda subtitle: calls.append((subtitle, threading.get_ident()))
        ),
    )
    assert len(calls) == config.total_turns() == 4
    assert {ident for _, ident in calls} == {threading.get_ident()}
    assert {subtitle for subtitle, _ in calls} >= {
        "chronological #0: turn 2 of 2", "popularity #0: turn 2 of 2",
    }  # fmt: skip
    assert comparison_count(db) == 2 and not result.failures
    assert "simlab report" in experiment_form.next_steps(result, str(db))


def test_an_error_in_on_progress_cancels_the_queued_runs(study, tmp_path):
    db = copy_database(study.db, tmp_path / "copy.db")
    config = CompareConfig(feeds=ARMS, replicates=2, seed=3, run={"turns": 2, "agents": 10})

    def stop(label, done, total):
        raise KeyboardInterrupt  # what a notebook's stop button raises in the cell

    with pytest.raises(KeyboardInterrupt):
        compare(config, str(db), jobs=1, on_progress=stop)
    with sqlite3.connect(db) as con:
        started = con.execute(
            "SELECT count(*) FROM comparison_runs WHERE comparison_id = "
            "(SELECT comparison_id FROM comparisons ORDER BY created_at DESC LIMIT 1)"
        ).fetchone()[0]
    assert started == 1  # the run in progress ends; the three queued ones never start


def test_initial_run_takes_runs_then_comparison_then_newest(study):
    con = analytics.connect(study.db)
    try:
        picked = study.run_ids[("popularity", 1)]
        assert analytics.initial_run(con, run_ids=(picked,)) == picked
        first = analytics.initial_run(con, comparison_id=study.comparison_id)
        assert first == study.run_ids[("chronological", 0)]
        assert analytics.initial_run(con) == analytics.runs(con)["run_id"].iloc[-1]
        with pytest.raises(InputError, match="--comparison: no comparison 'nope'"):
            analytics.initial_run(con, comparison_id="nope")
    finally:
        con.close()


# --- the notebooks, in process ----------------------------------------------------------


def test_compare_feeds_runs_on_the_latest_comparison_from_simlab_db(study, monkeypatch):
    found = run_notebook("compare_feeds", monkeypatch, db=study.db)
    assert found["chosen"] == analytics.Selection(comparison_id=study.comparison_id)
    summary = found["summary"]
    assert list(pd.unique(summary["arm"])) == ARMS
    keys = list(pd.unique(summary["key"]))  # headline metrics, then evaluated dimensions
    assert keys[: len(analytics.HEADLINE_METRICS)] == list(analytics.HEADLINE_METRICS)
    assert all(k.startswith("run.evaluation.") for k in keys[len(analytics.HEADLINE_METRICS) :])
    assert summary["mean"].notna().all()
    keys = found["metric_picker"].value
    assert keys and all(key.startswith("turn.") for key in keys)
    assert len(found["metric_charts"]) == len(keys)
    charts = [found[name] for name in (
        "difference_chart", "action_mix_chart", "actions_chart", "exposure_chart",
        "polarization_chart", "follow_chart",
    )] + found["metric_charts"]  # fmt: skip
    for chart in charts:
        assert isinstance(chart, alt.TopLevelMixin)
        assert chart.to_dict()  # would raise MaxRowsError or a schema error


def test_compare_feeds_takes_runs_and_db_from_its_command_line(study, monkeypatch):
    picked = [study.run_ids[("chronological", 0)], study.run_ids[("popularity", 1)]]
    found = run_notebook(
        "compare_feeds", monkeypatch, "--db", str(study.db), "--runs", ",".join(picked)
    )
    assert found["chosen"] == analytics.Selection(run_ids=tuple(picked))
    summary = found["summary"]
    assert list(pd.unique(summary["arm"])) == ARMS and (summary["n"] == 1).all()
    assert summary["diff_low"].isna().all()  # loose runs are not paired
    assert found["difference_chart"].to_dict()  # its axis says there is no interval
    assert found["group_chart"].to_dict()
    assert {"summary", "group_metrics", "leaning_distribution"} <= set(found["shown"])


def test_compare_feeds_pairs_hand_picked_replicates(study, monkeypatch):
    picked = list(study.run_ids.values())  # both replicates of both arms: shared seeds
    found = run_notebook("compare_feeds", monkeypatch, "--runs", ",".join(picked), db=study.db)
    con = analytics.connect(study.db)
    try:
        paired = analytics.comparison_summary(con, comparison_id=study.comparison_id)
    finally:
        con.close()
    loose = found["summary"].set_index(["key", "arm"]).loc[paired.set_index(["key", "arm"]).index]
    columns = ["n", "mean", "diff", "diff_low", "diff_high", "p_value"]
    pd.testing.assert_frame_equal(
        loose[columns].reset_index(), paired[["key", "arm", *columns]], check_dtype=False
    )
    assert loose.loc[(slice(None), "popularity"), "diff_low"].notna().any()


def test_compare_feeds_refuses_an_unknown_comparison(study, monkeypatch):
    with pytest.raises(InputError, match="--comparison: no comparison 'nope'"):
        run_notebook("compare_feeds", monkeypatch, "--comparison", "nope", db=study.db)


def test_explore_run_shows_one_run(study, monkeypatch):
    run_id = study.run_ids[("popularity", 0)]
    found = run_notebook("explore_run", monkeypatch, "--db", str(study.db), "--runs", run_id)
    assert found["run_id"] == run_id
    assert len(found["activity"]) == 40
    activity = found["activity"].set_index("agent_handle")
    agent = found["agent_picker"].value
    acted = activity[["likes", "comments", "follows"]].sum(axis=1)
    assert acted[agent] == acted.max() > 0  # the most active agent
    assert found["turn_picker"].steps == analytics.served_turns(
        found["con"], run_id=run_id, agent_handle=agent
    )
    assert len(found["turn_picker"].steps) == activity.loc[agent, "feeds"] > 0
    feed = found["feed"]
    assert not feed.empty and list(feed["rank"]) == list(range(1, len(feed) + 1))
    assert (feed["did"] != "").any()  # a turn in which the agent acted
    assert (feed["score"] == feed["score"].round(4)).all()
    assert list(feed.columns[:7]) == [
        "rank", "author_handle", "text", "score", "did", "explanation", "p",
    ]  # fmt: skip
    for chart in ("feed_chart", "network_chart", "neighbourhood_chart", "follow_chart"):
        assert isinstance(found[chart], alt.TopLevelMixin) and found[chart].to_dict()
    assert {"handle", "followers_start", "followers_end"} <= set(found["degrees"].columns)
    with sqlite3.connect(study.db) as con:
        comments = con.execute("SELECT count(*) FROM comments WHERE run_id = ?", (run_id,))
        assert len(found["threads"]) == comments.fetchone()[0] > 0  # no cap, every turn
    assert found["thread_filters"].value["turns"] == [0, 2]
    assert len(found["metric_charts"]) == len(found["metric_picker"].value) > 0


def test_new_experiment_waits_for_the_run_button(study, monkeypatch):
    before = comparison_count(study.db)
    found = run_notebook("new_experiment", monkeypatch, db=study.db)
    assert found["run_button"].value is False
    assert "comparison" not in found
    assert comparison_count(study.db) == before
    assert found["settings"].value["feeds"] == ["chronological", "popularity"]


def test_new_experiment_runs_a_comparison_when_pressed(study, monkeypatch, tmp_path):
    db = copy_database(study.db, tmp_path / "copy.db")
    pressed = {
        "run_button": SimpleNamespace(value=True),
        "settings": SimpleNamespace(
            value={"feeds": ["random", "chronological"], "replicates": 1, "turns": 2,
                   "agents": 12, "seed": 0, "jobs": 1}
        ),
    }  # fmt: skip
    shown, found = run_notebook(
        "new_experiment", monkeypatch, "--db", str(db), defs=pressed, outputs=True
    )
    comparison = found["comparison"]
    assert not comparison.failures and len(comparison.run_ids) == 2
    said = shown[-1].text  # the last cell: what was run, how to look at it, the headline
    assert f"--comparison {comparison.comparison_id}" in said and "uv run simlab report" in said
    assert "Clearest differences to random" in said
    con = analytics.connect(db)
    try:
        assert analytics.latest_comparison(con) == comparison.comparison_id
    finally:
        con.close()


# --- the notebooks as files: marimo check, Jupyter ---------------------------------------


def test_marimo_check_strict():
    done = subprocess.run(
        [sys.executable, "-m", "marimo", "check", "--strict", str(REPO / "notebooks")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _export_and_nbval(name: str, folder: Path, db: Path) -> subprocess.CompletedProcess:
    """``marimo export ipynb`` one notebook, then run it with ``pytest --nbval-lax``.

    The kernels use the IPC transport (``tests/nbval_ipc.py``): with TCP, five kernels
    starting together beside this module's marimo servers can lose a port in the gap
    between jupyter_client choosing it and the kernel binding it.
    """
    notebook = folder / f"{name}.ipynb"
    source = shutil.copy(REPO / "notebooks" / f"{name}.py", folder)  # marimo caches next to it
    export = subprocess.run(
        [sys.executable, "-m", "marimo", "export", "ipynb", str(source), "-o", str(notebook), "-f"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    if export.returncode != 0:
        return export
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
         "-p", "no:cacheprovider", "-p", "nbval_ipc", "-q", notebook.name],
        capture_output=True, text=True, cwd=folder, timeout=300, check=False,
        env={**os.environ, "SIMLAB_DB": str(db), "JUPYTER_RUNTIME_DIR": str(folder),
             "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])},
    )  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def nbval_runs(request, study, tmp_path_factory):
    """Every notebook through export + nbval, started in the background with the module.

    Each Jupyter kernel spends seconds importing; running them while the other tests
    of this module run keeps the module fast. Nothing starts when no nbval test is
    selected.
    """
    wanted = [
        name
        for name in NOTEBOOKS
        if any(
            item.name == f"test_notebook_runs_under_nbval[{name}]" for item in request.session.items
        )
    ]
    folder = tmp_path_factory.mktemp("ipynb")
    with ThreadPoolExecutor(max(1, len(wanted))) as pool:
        yield {name: pool.submit(_export_and_nbval, name, folder, study.db) for name in wanted}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_under_nbval(nbval_runs, name):
    done = nbval_runs[name].result()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
