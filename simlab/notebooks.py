"""What the marimo notebooks in ``notebooks/`` call that is more than one line, and how to open them.

The notebooks hold presentation only (one call per cell); every choice a test
should reach lives here: which database and runs a notebook shows (its command
line ``-- --db PATH --comparison ID --runs a,b``, else ``$SIMLAB_DB``, else
``data/simlab.db``), the options of its pickers, the summary table and its
headline in words, and the comparison the experiment form launches.

Open one from Python or the CLI::

    simlab.notebooks.open_notebook("compare_feeds", db="data/simlab.db")
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd

from simlab import analytics, charts
from simlab.compare import CompareConfig, Comparison, compare, describe
from simlab.db import DEFAULT_DB, resolve_url, sqlite_path
from simlab.errors import InputError
from simlab.stats import mean_ci

_PACKAGE_DIR = Path(__file__).resolve().parent
# Turn metrics charted by default: the per-turn counterparts of the headline metrics.
DEFAULT_METRICS = (
    "turn.engagement.rate",
    "turn.exposure.cross_cutting_share",
    "turn.exposure.topic_entropy_per_agent",
    "turn.attention.like_gini_posts",
    "turn.opinion.leaning_variance",
    "turn.network.ei_index",
)


# --- which notebook ---------------------------------------------------------------


def notebook_dir() -> Path:
    """The notebooks folder: inside the package when installed (``simlab/_notebooks``), else the repo's."""
    packaged = _PACKAGE_DIR / "_notebooks"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / "notebooks"


def names() -> list[str]:
    """The notebooks that can be opened by name, sorted."""
    return sorted(p.stem for p in notebook_dir().glob("*.py") if not p.name.startswith("_"))


def notebook_path(name: str) -> Path:
    """The file of notebook ``name`` (``compare_feeds`` or ``compare_feeds.py``).

    Raises:
        InputError: no notebook has that name.
    """
    stem = name.removesuffix(".py")
    if stem not in names():
        raise InputError(f"notebook: unknown notebook {name!r}; choose from {', '.join(names())}")
    return notebook_dir() / f"{stem}.py"


# --- what a notebook shows: its command line --------------------------------------


@dataclass(frozen=True)
class NotebookArgs:
    """A notebook's command line (after marimo's ``--``)."""

    db: str | None = None
    comparison: str | None = None
    runs: tuple[str, ...] = ()

    @property
    def database(self) -> str:
        """``--db``, else ``$SIMLAB_DB``, else ``data/simlab.db`` (a path or SQLAlchemy URL)."""
        return self.db or os.environ.get("SIMLAB_DB") or str(DEFAULT_DB)


def args(argv: Sequence[str] | None = None) -> NotebookArgs:
    """Parse ``--db``, ``--comparison`` and ``--runs a,b`` from ``argv`` (default ``sys.argv[1:]``).

    marimo sets ``sys.argv`` to the notebook file plus the arguments after ``--``;
    anything else on the line (a Jupyter kernel's ``-f``) is ignored. Values stay
    strings: an id such as ``1234e5678901`` is not read as a number.
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    parser.add_argument("--comparison")
    parser.add_argument("--runs", default="")
    known, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    runs = tuple(r.strip() for r in known.runs.split(",") if r.strip())
    return NotebookArgs(db=known.db, comparison=known.comparison, runs=runs)


def connect(notebook_args: NotebookArgs) -> duckdb.DuckDBPyConnection:
    """The read-only analytics connection to the notebook's database."""
    return analytics.connect(notebook_args.database)


# --- what a notebook shows: comparison or runs -------------------------------------


@dataclass(frozen=True)
class Selection:
    """The runs a notebook compares: one comparison, or a list of runs (arms = their feeds)."""

    comparison_id: str | None = None
    run_ids: tuple[str, ...] | None = None

    @property
    def kwargs(self) -> dict:
        """Keyword arguments for the ``simlab.analytics`` functions."""
        return {"comparison_id": self.comparison_id, "run_ids": self.run_ids}

    @property
    def title(self) -> str:
        """How the notebook names what it shows."""
        if self.comparison_id is not None:
            return f"comparison `{self.comparison_id}`"
        return f"runs {', '.join(f'`{r}`' for r in self.run_ids or ())}"


def comparison_options(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Dropdown options: a readable label per comparison (newest first) -> its id."""
    frame = analytics.comparisons(con).iloc[::-1]
    return {
        f"{row.comparison_id} · {row.arms.replace(',', ' vs ')} · {row.replicates} replicates × "
        f"{row.turns} turns": row.comparison_id
        for row in frame.itertuples()
    }


def run_options(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Picker options: a readable label per run (newest first) -> its id."""
    frame = analytics.runs(con).drop_duplicates("run_id").iloc[::-1]
    return {
        f"{row.run_id} · {row.feed_algorithm} · {row.total_turns} turns · {row.status}": row.run_id
        for row in frame.itertuples()
    }


def initial_selection(con: duckdb.DuckDBPyConnection, notebook_args: NotebookArgs) -> Selection:
    """What to show first: ``--runs``, else ``--comparison``, else the latest comparison.

    Raises:
        InputError: an unknown comparison or run id, or a database without comparisons
            when neither flag is given.
    """
    if notebook_args.runs:
        known = set(analytics.runs(con)["run_id"])
        missing = [r for r in notebook_args.runs if r not in known]
        if missing:
            raise InputError(f"--runs: no run {missing[0]!r} in the database")
        return Selection(run_ids=notebook_args.runs)
    if notebook_args.comparison is not None:
        if notebook_args.comparison not in set(analytics.comparisons(con)["comparison_id"]):
            raise InputError(
                f"--comparison: no comparison {notebook_args.comparison!r} in the database"
            )
        return Selection(comparison_id=notebook_args.comparison)
    latest = analytics.latest_comparison(con)
    if latest is None:
        raise InputError(
            "--comparison: the database has no comparison yet; run `simlab compare` "
            "or the new_experiment notebook, or pass --runs"
        )
    return Selection(comparison_id=latest)


def label_of(options: Mapping[str, str], value: str | None) -> str | None:
    """The option label whose value is ``value`` (a dropdown's default), or None."""
    return next((label for label, v in options.items() if v == value), None)


def labels_of(options: Mapping[str, str], values: Iterable[str] | None) -> list[str]:
    """The option labels of ``values`` (a multiselect's default), skipping unknown ones."""
    labels = [label_of(options, value) for value in values or ()]
    return [label for label in labels if label is not None]


def selection(comparison_id: str | None, run_ids: Iterable[str] | None) -> Selection:
    """The pickers' choice: picked runs if any, else the picked comparison."""
    runs = tuple(run_ids or ())
    return Selection(run_ids=runs) if runs else Selection(comparison_id=comparison_id)


# --- metrics ---------------------------------------------------------------------


def metric_options(con: duckdb.DuckDBPyConnection, chosen: Selection) -> dict[str, str]:
    """Multiselect options: label -> key of every ``turn.*`` metric the selected runs recorded."""
    keys = con.execute(
        "SELECT DISTINCT t.key FROM turn_metrics_long AS t "
        "JOIN runs_overview AS r ON r.run_id = t.run_id "
        "WHERE ($c IS NULL OR r.comparison_id = $c) "
        "AND ($r IS NULL OR list_contains(CAST($r AS VARCHAR[]), t.run_id)) ORDER BY t.key",
        {"c": chosen.comparison_id, "r": None if chosen.run_ids is None else list(chosen.run_ids)},
    ).fetchall()
    labels = [charts.metric_label(k) for (k,) in keys]
    repeated = {label for label in labels if labels.count(label) > 1}
    return {
        f"{label} · {k}" if label in repeated else label: k
        for label, (k,) in zip(labels, keys, strict=True)
    }


def default_metrics(options: Mapping[str, str]) -> list[str]:
    """The labels of :data:`DEFAULT_METRICS` among ``options`` (else its first three)."""
    wanted = [label_of(options, key) for key in DEFAULT_METRICS]
    return [label for label in wanted if label] or list(options)[:3]


def metric_charts(
    con: duckdb.DuckDBPyConnection, chosen: Selection, keys: Iterable[str]
) -> list[alt.LayerChart]:
    """One mean-over-turns chart with 95% CI bands per metric key."""
    return [
        charts.metric_over_turns(
            analytics.metric_bands(con, key, **chosen.kwargs), key, title=charts.metric_label(key)
        )
        for key in keys
    ]


# --- the summary and its headline -------------------------------------------------


def summary(
    con: duckdb.DuckDBPyConnection,
    chosen: Selection,
    keys: Sequence[str] = analytics.HEADLINE_METRICS,
) -> pd.DataFrame:
    """Per arm and metric: mean with 95% CI and difference to the first arm.

    For a comparison this is :func:`simlab.analytics.comparison_summary` (paired by
    replicate). Loose runs are not paired: ``diff`` is the difference of means and
    its bounds are NaN.

    Returns:
        Columns key, arm, n, mean, ci_low, ci_high, diff, diff_low, diff_high.
    """
    if chosen.comparison_id is not None:
        return analytics.comparison_summary(con, chosen.comparison_id, keys=keys)
    scalars = analytics.run_scalars(con, run_ids=chosen.run_ids, keys=keys)
    rows = []
    for (key, arm), group in scalars.groupby(["key", "arm"], sort=False):
        values = group["value"].astype(float).to_numpy()
        rows.append((key, arm, int((~pd.isna(values)).sum()), *mean_ci(values)))
    frame = pd.DataFrame(rows, columns=["key", "arm", "n", "mean", "ci_low", "ci_high"])
    base = frame.groupby("key", sort=False)["mean"].transform("first")
    return frame.assign(diff=frame["mean"] - base, diff_low=math.nan, diff_high=math.nan)


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The summary for reading: metric labels, rounded numbers, intervals as "low to high"."""

    def interval(low: float, high: float) -> str:
        return "" if pd.isna(low) or pd.isna(high) else f"{low:.3g} to {high:.3g}"

    return pd.DataFrame(
        {
            "Metric": frame["key"].map(charts.metric_label),
            "Feed": frame["arm"],
            "Runs": frame["n"],
            "Mean": frame["mean"].round(4),
            "95% CI": [
                interval(a, b) for a, b in zip(frame["ci_low"], frame["ci_high"], strict=True)
            ],
            "Difference": frame["diff"].round(4),
            "Difference 95% CI": [
                interval(a, b) for a, b in zip(frame["diff_low"], frame["diff_high"], strict=True)
            ],
        }
    )


def headline(frame: pd.DataFrame, per_arm: int = 2) -> str:
    """Markdown naming, for each arm, its clearest differences to the first arm, in words.

    Differences whose 95% interval excludes zero come first, ranked by |diff| over
    the interval's half-width (how many half-widths from zero); without intervals
    (loose runs), by |diff| relative to the baseline mean.
    """
    if frame.empty:
        return "No metrics recorded for this selection yet."
    baseline = frame["arm"].iloc[0]
    rows = frame[(frame["arm"] != baseline) & frame["diff"].notna()].copy()
    if rows.empty:
        return f"Only **{baseline}** is selected: there is nothing to compare it with."
    base_mean = rows["key"].map(frame[frame["arm"] == baseline].set_index("key")["mean"])
    levels = (base_mean > 0) & ~rows["key"].str.contains("change")
    rows["relative"] = (rows["diff"] / base_mean).where(levels)
    half = (rows["diff_high"] - rows["diff_low"]) / 2
    rows["clear"] = (rows["diff_low"] > 0) | (rows["diff_high"] < 0)
    rows["size"] = (rows["diff"].abs() / half.where(half > 0)).fillna(rows["relative"].abs())
    rows = rows.sort_values(["clear", "size"], ascending=False, na_position="last")
    picked = rows.groupby("arm", sort=False).head(per_arm)
    lines = [f"**Clearest differences to {baseline}** (95% confidence intervals):", ""]
    lines += [f"- {_sentence(row)}" for row in picked.itertuples()]
    return "\n".join(lines)


def _sentence(row) -> str:
    label = charts.metric_label(row.key)
    change = (
        f"{abs(row.diff):.3g} {'higher' if row.diff > 0 else 'lower'}" if row.diff else "the same"
    )
    relative = "" if pd.isna(row.relative) or not row.diff else f" ({row.relative:+.0%})"
    text = f"under **{row.arm}**, {label[0].lower()}{label[1:]} is {change}{relative}"
    if pd.isna(row.diff_low):
        return text + "; no interval (runs are not paired replicates)."
    verdict = "excludes zero" if row.clear else "includes zero, so chance cannot be ruled out"
    return text + f"; CI {row.diff_low:.3g} to {row.diff_high:.3g} {verdict}."


# --- one run ----------------------------------------------------------------------


def initial_run(con: duckdb.DuckDBPyConnection, notebook_args: NotebookArgs) -> str:
    """The run to show first: the first of ``--runs``, else the newest run.

    Raises:
        InputError: an unknown run id, or no run in the database.
    """
    known = analytics.runs(con)["run_id"]
    if notebook_args.runs:
        if notebook_args.runs[0] not in set(known):
            raise InputError(f"--runs: no run {notebook_args.runs[0]!r} in the database")
        return notebook_args.runs[0]
    if known.empty:
        raise InputError("--runs: the database has no run yet; start one with `simlab run`")
    return str(known.iloc[-1])


def run_facts(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """Markdown: one run's feed, size, status and comparison arm."""
    row = analytics.runs(con).drop_duplicates("run_id").set_index("run_id").loc[run_id]
    arm = (
        ""
        if pd.isna(row["comparison_id"])
        else f" It is replicate {row['replicate']} of arm **{row['arm']}** in comparison "
        f"`{row['comparison_id']}`."
    )
    return (
        f"Run `{run_id}`: feed **{row['feed_algorithm']}**, policy {row['policy']}, "
        f"{row['total_agents']} agents, {row['total_turns']} turns, seed {row['seed']}, "
        f"status **{row['status']}**.{arm}"
    )


def served_turns(
    con: duckdb.DuckDBPyConnection, run_id: str, agent_handle: str | None
) -> list[int]:
    """The turns in which the agent was served a feed (``[0]`` if none, so a picker has a value)."""
    rows = con.execute(
        "SELECT DISTINCT turn_number FROM sim.generated_feeds "
        "WHERE run_id = $r AND agent_handle = $a ORDER BY turn_number",
        {"r": run_id, "a": agent_handle},
    ).fetchall()
    return [int(t) for (t,) in rows] or [0]


def busiest_agent(activity: pd.DataFrame) -> str | None:
    """The handle with the most feeds, then actions (ties: first by handle)."""
    if activity.empty:
        return None
    total = activity["feeds"] * 1_000_000 + activity[["likes", "comments", "follows"]].sum(axis=1)
    return str(activity.loc[total.idxmax(), "agent_handle"])


def degree_table(edges: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """Followers and followings per account, before the run and at its end, most followed first.

    Args:
        edges: columns source, target, turn (``analytics.follow_edges``; turn -1 is
            an initial follow).
        top: rows kept.

    Returns:
        Columns handle, followers_start, followers_end, following_end, new_followers.
    """
    start = edges[edges["turn"] < 0]
    table = pd.DataFrame(
        {
            "followers_start": start.groupby("target").size(),
            "followers_end": edges.groupby("target").size(),
            "following_end": edges.groupby("source").size(),
        }
    ).fillna(0)
    table = table.astype("int64").rename_axis("handle").reset_index()
    table["new_followers"] = table["followers_end"] - table["followers_start"]
    table = table.sort_values(["followers_end", "handle"], ascending=[False, True])
    return table.head(top).reset_index(drop=True)


# --- a new experiment -------------------------------------------------------------


def compare_config(values: Mapping[str, object]) -> CompareConfig:
    """The comparison the experiment form describes.

    Args:
        values: the form's value: feeds (list), replicates, turns, agents (0 = all)
            and seed.

    Raises:
        InputError: no feed picked, or an invalid setting (one line).
    """
    feeds = list(values.get("feeds") or [])
    if not feeds:
        raise InputError("feeds: pick at least one feed algorithm")
    agents = int(values.get("agents") or 0)
    run = {"turns": int(values.get("turns") or 1), "agents": agents or None}
    try:
        return CompareConfig(
            feeds=feeds, replicates=int(values.get("replicates") or 1),
            seed=int(values.get("seed") or 0), run=run,
        )  # fmt: skip
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        if isinstance(exc, InputError):
            raise
        raise InputError(_first_error(exc)) from None


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors) and errors():
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc).splitlines()[0]


def describe_form(values: Mapping[str, object]) -> str:
    """Markdown: what the form would run, or what is wrong with it (one line)."""
    try:
        return f"Will run {describe(compare_config(values))}."
    except InputError as exc:
        return f"**Cannot run yet:** {exc}"


def agent_count(con: duckdb.DuckDBPyConnection) -> int:
    """Agents in the database's population."""
    return int(con.execute("SELECT count(*) FROM sim.agent").fetchone()[0])


def steps(config: CompareConfig) -> int:
    """Turns to simulate in total: arms x replicates x turns (a progress bar's total)."""
    return len(config.feeds) * config.replicates * int(config.run.get("turns", 10))


def run_comparison(
    config: CompareConfig,
    db: str | None = None,
    jobs: int | None = None,
    on_step: Callable[..., object] | None = None,
) -> Comparison:
    """:func:`simlab.compare.compare`, calling ``on_step(subtitle=...)`` once per finished turn.

    The callback runs on the calling thread (a notebook cell's), not on the
    comparison's worker threads, so it may update marimo outputs.
    """
    events: queue.Queue = queue.Queue()
    outcome: dict = {}

    def work() -> None:
        try:
            workers = None if jobs is None else int(jobs)  # a form's number may be a float
            outcome["comparison"] = compare(config, db, workers, on_progress=_put(events))
        except BaseException as exc:  # re-raised on the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="simlab-notebook-compare", daemon=True)
    worker.start()
    while worker.is_alive() or not events.empty():
        try:
            label, done, total = events.get(timeout=0.1)
        except queue.Empty:
            continue
        if on_step is not None:
            on_step(subtitle=f"{label}: turn {done} of {total}")
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["comparison"]


def _put(events: queue.Queue) -> Callable[[str, int, int], None]:
    return lambda label, done, total: events.put((label, done, total))


def next_steps(comparison: Comparison, db: str) -> str:
    """Markdown: the new comparison's id, failures if any, and how to look at it."""
    cid, db = comparison.comparison_id, shlex.quote(str(db))
    failed = "".join(
        f"\n- run {arm} #{rep} failed: `{error}`"
        for (arm, rep), error in comparison.failures.items()
    )
    return (
        f"**Comparison `{cid}`** finished: {len(comparison.run_ids)} runs"
        f"{', ' + str(len(comparison.failures)) + ' failed' if failed else ''}.{failed}\n\n"
        "Look at it:\n\n"
        f"- `simlab notebook compare_feeds --db {db} --comparison {cid}`\n"
        f"- `simlab notebook explore_run --db {db} --runs {next(iter(comparison.run_ids.values()))}`\n"
        f"- `simlab report --db {db} --comparison {cid}` (static HTML, charts, CSV)\n"
    )


# --- opening a notebook -----------------------------------------------------------


def notebook_command(
    name: str,
    db: str | os.PathLike | None = None,
    *,
    comparison: str | None = None,
    runs: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int | None = None,
    headless: bool = False,
) -> list[str]:
    """The ``marimo edit`` command line that opens notebook ``name`` on the database.

    The database (``db``, else ``$SIMLAB_DB``, else ``data/simlab.db``) goes to the
    notebook as an absolute ``--db`` after ``--``.

    Raises:
        InputError: unknown notebook, or the database is not an existing SQLite file.
    """
    path = notebook_path(name)
    database = database_file(db)
    command = [sys.executable, "-m", "marimo", "edit", str(path), "--host", host]
    command += ["--port", str(port)] if port is not None else []
    command += ["--headless"] if headless else []
    command += ["--skip-update-check", "--", "--db", database]
    command += ["--comparison", comparison] if comparison else []
    command += ["--runs", ",".join(runs)] if runs else []
    return command


def database_file(db: str | os.PathLike | None) -> str:
    """The absolute path of an existing SQLite database (``db``, ``$SIMLAB_DB`` or the default).

    Raises:
        InputError: not SQLite, or the file does not exist.
    """
    url = resolve_url(db)
    path = sqlite_path(url)
    if path is None:
        raise InputError(f"--db: the notebooks read SQLite files, not {url.split('://')[0]}")
    if not path.is_file():
        raise InputError(f"--db: {path} does not exist; create it with `simlab db upgrade`")
    return str(path)


def launch(name: str, db: str | os.PathLike | None = None, **options) -> subprocess.Popen:
    """Start ``marimo edit`` for notebook ``name`` (see :func:`notebook_command`) and return it."""
    command = notebook_command(name, db, **options)
    env = {**os.environ, "SIMLAB_DB": command[command.index("--db") + 1]}
    return subprocess.Popen(command, env=env)


def open_notebook(
    name: str,
    db: str | os.PathLike | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    **options,
) -> int:
    """Open notebook ``name`` in marimo's editor (a browser tab) and wait until it stops.

    Args:
        name: a notebook from :func:`names`.
        db: the database; default ``$SIMLAB_DB``, else ``data/simlab.db``.
        host: the interface marimo listens on.
        port: the port; default: marimo picks a free one from 2718.
        **options: ``comparison``, ``runs`` and ``headless`` of :func:`notebook_command`.

    Returns:
        marimo's exit code (0 after Ctrl-C).
    """
    process = launch(name, db, host=host, port=port, **options)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return 0
