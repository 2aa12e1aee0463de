"""The live experiment notebook: a run stepped through its UI functions is a CLI run.

The notebook runs in process on a small database with its form set the way a
user sets it; the test then presses Step / Start / Pause / Reset through the
session the notebook holds and compares every row the run wrote with the rows
``simlab run`` writes for the same settings (ids and wall-clock times aside).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import altair as alt
import pytest

from simlab import experiment_form, feeds, live_view, opinion
from simlab.errors import InputError
from simlab.live_run import LiveRun
from simlab.schema import metadata

from .conftest import copy_database, run_simlab, synthetic_database
from .test_notebooks import run_notebook

# A form a user could fill in: every section moved off its default.
FORM = {
    "population": "the stored population", "feed": "diverse", "policy": "rule_based",
    "opinion": "deffuant", "turns": 4, "agents": 30, "seed": 5,
}  # fmt: skip
FEED_PARAMS = {"mmr_lambda": 0.5, "pool_factor": 3}
POLICY_PARAMS = {"like_interest": 1.2}
OPINION_PARAMS = {"epsilon": 0.3, "mu": 0.2}
CLI_FLAGS = [
    "--feed", "diverse", "--feed-param", "mmr_lambda=0.5", "--feed-param", "pool_factor=3",
    "--policy", "rule_based", "--policy-param", "like_interest=1.2",
    "--opinion", "deffuant", "--opinion-param", "epsilon=0.3", "--opinion-param", "mu=0.2",
    "--turns", "4", "--agents", "30", "--seed", "5",
]  # fmt: skip


@pytest.fixture(scope="module")
def population_db(tmp_path_factory) -> Path:
    return synthetic_database(
        tmp_path_factory.mktemp("live") / "simlab.db", agents=40, posts=200, seed=2
    )


@pytest.fixture
def db(population_db, tmp_path) -> Path:
    return copy_database(population_db, tmp_path / "copy.db")


def _filled_notebook(monkeypatch, db: Path) -> dict:
    """Run the notebook in process with the form and the parameter widgets set."""
    filled = {
        "choices": SimpleNamespace(value=dict(FORM)),
        "feed_params": SimpleNamespace(value=FEED_PARAMS),
        "policy_params": SimpleNamespace(value=POLICY_PARAMS),
        "opinion_params": SimpleNamespace(value=OPINION_PARAMS),
    }
    return run_notebook("live_experiment", monkeypatch, "--db", str(db), defs=filled)


def _content(db: Path, run_id: str) -> dict[str, list]:
    """Every row a run wrote, without surrogate ids, wall-clock times and its lease."""
    content = {}
    with sqlite3.connect(db) as connection:
        for table in metadata.sorted_tables:
            if "run_id" not in table.columns or table.name == "run_lifecycle":
                continue
            surrogate = {c.name for c in table.primary_key.columns if c.name != "run_id"}
            kept = [
                c.name
                for c in table.columns
                if c.name != "run_id" and not c.name.endswith("_at") and c.name not in surrogate
            ]
            found = connection.execute(
                f"SELECT {', '.join(kept)} FROM {table.name} WHERE run_id = ?", (run_id,)
            ).fetchall()
            content[table.name] = sorted((_anonymous(row, run_id) for row in found), key=repr)
    return content


def _anonymous(row: tuple, run_id: str) -> tuple:
    """The row with the run's id (in ids such as ``<run>-<turn>-<n>``) replaced by RUN."""
    return tuple(v.replace(run_id, "RUN") if isinstance(v, str) else v for v in row)


def _cli_run(db: Path) -> str:
    done = run_simlab("run", *CLI_FLAGS, "--db", str(db))
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def test_a_run_stepped_in_the_notebook_has_the_rows_of_a_cli_run(db, monkeypatch):
    found = _filled_notebook(monkeypatch, db)
    session, config = found["session"], found["config"]
    assert config.feed.params["mmr_lambda"] == 0.5 and config.opinion.name == "deffuant"
    assert session.run is None and found["shown_version"] == 0  # nothing runs unpressed

    session.step(config)  # Step: one turn, paused
    run = session.run
    assert run.next_turn == 1 and not session.running and not session.tick()
    assert live_view.leaning_chart(run).to_dict()["title"] == "Leaning distribution after turn 0"
    session.start(config)  # Start: a turn per tick
    assert session.tick() and run.next_turn == 2
    session.pause()
    assert not session.tick() and run.next_turn == 2
    session.start(config)
    while session.tick():
        pass
    assert run.status == "completed" and run.next_turn == 4 and session.message == ""
    for chart in live_view.metric_charts(run):
        assert isinstance(chart, alt.TopLevelMixin) and chart.to_dict()
    assert f"--runs {run.run_id}" in live_view.status_markdown(session, str(db))

    cli_run = _cli_run(db)
    live, cli = _content(db, run.run_id), _content(db, cli_run)
    assert live["likes"] and live["agent_leaning_changes"] and live["run_metrics"]
    assert live == cli


def test_reset_keeps_a_resumable_run_that_resume_finishes_like_the_cli(db, monkeypatch):
    found = _filled_notebook(monkeypatch, db)
    session, config = found["session"], found["config"]
    session.step(config)
    session.step(config)
    stopped = session.run.run_id
    session.reset()
    assert session.run is None
    with sqlite3.connect(db) as connection:
        status = connection.execute(
            "SELECT status FROM runs WHERE run_id = ?", (stopped,)
        ).fetchone()
        error = connection.execute(
            "SELECT turn_number, error FROM run_failures WHERE run_id = ?", (stopped,)
        ).fetchone()
    assert status == ("failed",) and error == (2, "stopped: stopped from the live notebook")
    resumed = run_simlab("resume", stopped, "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    finished, cli = _content(db, stopped), _content(db, _cli_run(db))
    assert finished.pop("run_failures") == [(2, "stopped: stopped from the live notebook")]
    assert cli.pop("run_failures") == [] and finished == cli  # the stop is kept as history


def test_a_bad_form_says_what_is_wrong_and_writes_nothing(db, monkeypatch):
    values = {**FORM, "population": None}
    config, said = experiment_form.checked_live_config(values, {"mmr_lambda": 7}, {}, {})
    assert config is None and said.startswith("**Cannot run yet:** ") and "mmr_lambda" in said
    assert "\n" not in said
    found = _filled_notebook(monkeypatch, db)
    session = found["session"]
    session.start(None)
    assert session.run is None and not session.running and "fix it" in session.message
    too_many = experiment_form.live_config({**values, "agents": 10_000}, {}, {}, {})
    session.step(too_many)
    assert session.run is None and session.message.startswith("InputError: --agents")
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_a_finished_run_refuses_more_steps(db):
    config = experiment_form.live_config({**FORM, "turns": 1, "population": None}, {}, {}, {})
    run = LiveRun(config, str(db))
    run.step()
    with pytest.raises(InputError, match="is completed; press Reset"):
        run.step()
    run.stop()  # a no-op on a finished run
    assert run.status == "completed"


def test_param_fields_follow_the_params_schema():
    diverse = {f.name: f for f in experiment_form.param_fields(feeds.FEEDS.get("diverse").params)}
    assert (diverse["mmr_lambda"].start, diverse["mmr_lambda"].stop) == (0, 1)
    assert diverse["pool_factor"].step == 1 and diverse["pool_factor"].default == 5
    assert diverse["recency_half_life_hours"].start == 0  # exclusiveMinimum: pydantic checks
    order = experiment_form.param_fields(feeds.FEEDS.get("in_network").params)
    assert [f.options for f in order if f.name == "order"] == [("chronological", "popularity")]
    assert experiment_form.param_fields(opinion.OPINIONS.get("none").params) == []
    widgets = experiment_form.param_widgets(feeds.FEEDS.get("diverse").params)
    assert widgets.value["mmr_lambda"] == 0.7 and set(widgets.value) == set(diverse)


def test_population_options_offer_the_stored_population_and_draws(population_db):
    options = experiment_form.population_options(str(population_db))
    labels = list(options)
    assert labels[0] == "the stored population" and options[labels[0]] is None
    assert [options[label]["index"] for label in labels[1:]] == [1, 2, 3]
    assert all(options[label]["kind"] == "synthetic" for label in labels[1:])
