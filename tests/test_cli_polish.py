"""CLI polish: registry listings as plain text, "did you mean", one-line dates, help defaults."""

from __future__ import annotations

import inspect
import re
import sqlite3
from textwrap import dedent

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from simlab.cli import app as cli_app
from simlab.cli.app import show_defaults
from simlab.cli.doc_text import doc_blocks, plain
from simlab.registry import did_you_mean

from .conftest import init_database, run_simlab

RST = re.compile(r"``|:[a-z]+:`|^\s*\.\. ", re.MULTILINE)
DATE = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d\b")


def _registries():
    from simlab.feeds import FEEDS
    from simlab.metrics import METRICS
    from simlab.opinion import OPINIONS
    from simlab.policies import POLICIES

    return {"feeds": FEEDS, "policies": POLICIES, "opinions": OPINIONS, "metrics": METRICS}


def _definitions(doc: str) -> list[str]:
    """Formula lines of a docstring written on one source line: indented, defining with ``=``."""
    return [
        plain(line).strip()
        for line in dedent(doc).splitlines()
        if line.startswith("    ") and " = " in line and not line.strip().startswith(("-", "+"))
    ]


# --- simlab feeds / policies / opinions / metrics ------------------------------------------


@pytest.mark.parametrize("command", ["feeds", "policies", "opinions", "metrics"])
def test_registry_listing_is_plain_text_with_every_formula_on_one_line(command):
    result = run_simlab(command, env={"COLUMNS": "60"})  # narrower than most formulas
    assert result.returncode == 0, result.stderr
    assert not RST.search(result.stdout), RST.search(result.stdout)
    lines = result.stdout.splitlines()
    entries = list(_registries()[command])
    assert entries
    for entry in entries:
        for formula in _definitions(entry.doc):
            assert any(formula in line for line in lines), (command, formula)


def test_hard_wrapped_formula_lines_are_joined_and_layout_kept():
    result = run_simlab("metrics", env={"COLUMNS": "60"})
    assert (
        "    G = Σ_i Σ_j |x_i − x_j| / (2 m² x̄) with x_i the final in-run likes summed over the "
        "eligible posts of account i, over the m accounts that authored an eligible post."
    ) in result.stdout.splitlines()
    feeds = run_simlab("feeds", env={"COLUMNS": "60"}).stdout.splitlines()
    assert any(line.strip().startswith("+ w_b * ln(1 + min(L[p], R[p]))") for line in feeds)
    assert any(line.strip().startswith("- ln(2) * age[p] / h") for line in feeds)


def test_doc_blocks_strip_rst_reflow_prose_and_keep_formulas():
    doc = """Title line.

    Prose with ``literal``, :math:`x^2`, :mod:`~simlab.feeds` and *emphasis*,
    hard-wrapped at the
    source width.

    - an item with ``code``
      continued here;
    - a second item.

    .. math::

        score[a, p] = w * ln(1 + E[p]) + a long term that the docstring wraps at
        the source width
                    + next line of the same formula
        x ← y

    Closing.
    """
    blocks = doc_blocks(inspect.cleandoc(doc))  # as registries store docs
    assert [b.text for b in blocks if not b.formula and b.text] == [
        "Title line.",
        "Prose with literal, x^2, simlab.feeds and emphasis, hard-wrapped at the source width.",
        "- an item with code continued here;",
        "- a second item.",
        "Closing.",
    ]
    (formula,) = [b.text.splitlines() for b in blocks if b.formula]
    assert formula == [
        "    score[a, p] = w * ln(1 + E[p]) + a long term that the docstring wraps at the source "
        "width",
        "                + next line of the same formula",
        "    x ← y",
    ]
    assert "" in [b.text for b in blocks]  # paragraphs stay apart


# --- "did you mean" -------------------------------------------------------------------------


def test_did_you_mean_suggests_close_names_only():
    names = ["bridging", "chronological", "in_network", "popularity"]
    assert did_you_mean("bridgin", names) == "did you mean 'bridging'? "
    assert did_you_mean("In-Network", names) == "did you mean 'in_network'? "
    assert did_you_mean("zzz", names) == ""
    both = did_you_mean("turn.actions.like", ["turn.actions.likes", "turn.actions.links"])
    assert both == "did you mean 'turn.actions.likes' or 'turn.actions.links'? "


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = init_database(tmp_path_factory.mktemp("polish") / "simlab.db", 20, 60, 1)
    done = run_simlab("run", "--turns", "1", "--db", str(path))
    assert done.returncode == 0, done.stderr
    return path


def _rows(path, table: str) -> int:
    with sqlite3.connect(path) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "--feed", "bridgin"],
            "unknown feed 'bridgin'; did you mean 'bridging'? allowed: ",
        ),
        (["compare", "--feeds", "chronological,popularty"], "did you mean 'popularity'? allowed:"),
        (
            ["run", "--policy", "rule-based"],
            "unknown policy 'rule-based'; did you mean 'rule_based'?",
        ),
        (["run", "--opinion", "defuant"], "did you mean 'deffuant'? allowed: assimilation"),
        (
            ["run", "--metrics", "turn.engagement.rat"],
            "unknown metric 'turn.engagement.rat'; did you mean 'turn.engagement.rate'",
        ),
        (["evaluate", "--evaluator", "sentimnt"], "unknown evaluator 'sentimnt'; did you mean"),
    ],
)
def test_unknown_names_suggest_the_closest_in_one_line_and_write_nothing(database, args, message):
    before = {table: _rows(database, table) for table in ("runs", "evaluations")}
    if args[0] == "evaluate":
        with sqlite3.connect(database) as con:
            args = [*args, con.execute("SELECT run_id FROM runs").fetchone()[0]]
    result = run_simlab(*args, "--db", str(database))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert {table: _rows(database, table) for table in before} == before


# --- simlab runs ---------------------------------------------------------------------------


def test_runs_keeps_every_cell_on_one_line_in_a_narrow_terminal(database):
    result = run_simlab("runs", "--db", str(database), env={"COLUMNS": "50"})
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.strip().splitlines()
    assert header.split() == ["run", "feed", "status", "agents", "turns", "seed", "created"]
    assert len(rows) == _rows(database, "runs")
    for row in rows:
        assert "…" not in row and DATE.search(row), row
        assert len(row.split()) == 8  # seven columns, the date holding one space


# --- every help line shows its default -----------------------------------------------------


def _command_paths(command, path=()):
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield path
        return
    for name, sub in subcommands.items():
        yield from _command_paths(sub, (*path, name))


def _option_rows(help_text: str) -> dict[str, str]:
    """Each option or argument row of a rich help screen, continuation lines joined."""
    rows: dict[str, str] = {}
    current = None
    for line in help_text.splitlines():
        inner = line.strip().strip("│").rstrip()
        if not line.startswith("│"):
            current = None
            continue
        started = re.match(r"^\s{1,4}(\*\s+)?(--[\w-]+|[A-Z][A-Z_.]+|[a-z_]+)\s", inner)
        if started and not inner.startswith(" " * 6):
            current = started.group(2)
            rows[current] = inner
        elif current is not None:
            rows[current] += " " + inner.strip()
    return rows


def test_every_help_line_of_every_command_shows_its_default_or_that_it_is_required(
    monkeypatch,
):
    command = typer.main.get_command(cli_app)  # what simlab.cli.app.main runs
    show_defaults(command)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: command)
    runner = CliRunner()
    paths = list(_command_paths(command))
    assert ("run",) in paths and ("db", "upgrade") in paths and ("llm", "serve") in paths
    checked = 0
    for path in paths:
        result = runner.invoke(cli_app, [*path, "--help"], env={"COLUMNS": "250"})
        assert result.exit_code == 0, (path, result.output)
        rows = _option_rows(result.output)
        for name, row in rows.items():
            if name == "--help":
                continue
            checked += 1
            assert re.search(r"[\[(]default: |\[required\]", row), (path, name, row)
    assert checked > 100


def test_help_through_the_console_script_shows_config_defaults_and_stated_ones():
    result = run_simlab("run", "--help")
    assert result.returncode == 0, result.stderr
    rows = _option_rows(result.stdout)
    assert "[default: 10, or the --config file's]" in rows["--turns"]
    assert "[default: chronological, or the --config file's]" in rows["--feed"]
    assert "[default: all]" in rows["--agents"]  # written in the help text, escaped for rich
    assert "[default: $SIMLAB_DB or data/simlab.db]" in rows["--db"]
    assert "[default: none]" in rows["--budget-tokens"]
