import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="simlab: new experiment")

with app.setup:
    import os

    import marimo as mo

    import simlab.feeds
    import simlab.notebooks


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # A new feed comparison

    Pick the feed algorithms to compare (the first is the baseline) and how many
    replicates each gets. Replicate *r* of every arm shares one seed, so the arms differ
    only by their feed. The runs use the population already in the database.
    """)
    return


@app.cell
def _():
    cli = simlab.notebooks.args()
    con = simlab.notebooks.connect(cli)
    return cli, con


@app.cell
def _(con):
    settings = mo.md("""
    {feeds}

    {replicates} {turns} {agents} {seed} {jobs}
    """).batch(
        feeds=mo.ui.multiselect(
            simlab.feeds.names(), value=["chronological", "popularity"], label="Feeds"
        ),
        replicates=mo.ui.number(start=1, stop=1000, value=3, label="Replicates"),
        turns=mo.ui.number(start=1, stop=100_000, value=10, label="Turns"),
        agents=mo.ui.number(
            start=0, stop=simlab.notebooks.agent_count(con), value=0, label="Agents (0 = all)"
        ),
        seed=mo.ui.number(start=0, value=0, label="Seed"),
        jobs=mo.ui.number(start=1, stop=64, value=os.cpu_count() or 1, label="Parallel runs"),
    )
    settings
    return (settings,)


@app.cell
def _(settings):
    run_button = mo.ui.run_button(label="Run comparison")
    mo.vstack([mo.md(simlab.notebooks.describe_form(settings.value)), run_button])
    return (run_button,)


@app.cell
def _(cli, run_button, settings):
    # Outside marimo (Jupyter, nbval) the button is never pressed and mo.stop raises:
    # NBVAL_RAISES_EXCEPTION
    mo.stop(not run_button.value, mo.md("Set the comparison up, then press **Run comparison**."))
    config = simlab.notebooks.compare_config(settings.value)
    _jobs = settings.value["jobs"]
    with mo.status.progress_bar(total=simlab.notebooks.steps(config), title="Running") as _bar:
        comparison = simlab.notebooks.run_comparison(config, cli.database, _jobs, _bar.update)
    mo.md(simlab.notebooks.next_steps(comparison, cli.database))
    return (comparison,)


if __name__ == "__main__":
    app.run()
