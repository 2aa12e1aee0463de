import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="simlab: new experiment")

with app.setup:
    import os

    import marimo as mo

    import simlab.analytics
    import simlab.compare
    import simlab.experiment_form
    import simlab.feeds
    import simlab.notebook_launch


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
    database = simlab.notebook_launch.database_file(simlab.notebook_launch.inputs().db)
    con = simlab.analytics.connect(database)
    return con, database


@app.cell
def _(con):
    settings = mo.md("""
    {feeds}

    {replicates} {populations} {turns} {agents} {seed} {jobs}
    """).batch(
        feeds=mo.ui.multiselect(
            simlab.feeds.names(), value=["chronological", "popularity"], label="Feeds"
        ),
        replicates=mo.ui.number(start=1, stop=1000, value=3, label="Replicates"),
        populations=mo.ui.number(start=1, stop=1000, value=1, label="Populations"),
        turns=mo.ui.number(start=1, stop=100_000, value=10, label="Turns"),
        agents=mo.ui.number(
            start=0, stop=simlab.analytics.agent_count(con), value=0, label="Agents (0 = all)"
        ),
        seed=mo.ui.number(start=0, value=0, label="Seed"),
        jobs=mo.ui.number(start=1, stop=64, value=os.cpu_count() or 1, label="Parallel runs"),
    )
    settings
    return (settings,)


@app.cell
def _(settings):
    run_button = mo.ui.run_button(label="Run comparison")
    mo.vstack([mo.md(simlab.experiment_form.describe_form(settings.value)), run_button])
    return (run_button,)


@app.cell
def _(database, run_button, settings):
    # Outside marimo (Jupyter, nbval) the button is never pressed and mo.stop raises:
    # NBVAL_RAISES_EXCEPTION
    mo.stop(not run_button.value, mo.md("Set the comparison up, then press **Run comparison**."))
    config = simlab.experiment_form.compare_config(settings.value)
    with mo.status.progress_bar(total=config.total_turns(), title="Running") as _bar:
        comparison = simlab.compare.compare(
            config,
            database,
            jobs=settings.value["jobs"],
            on_progress=simlab.experiment_form.progress_step(_bar.update),
        )
    with simlab.analytics.connect(database) as _fresh:  # a connection sees the runs done by then
        _finished = simlab.analytics.summary(_fresh, comparison_id=comparison.comparison_id)
    mo.md(
        simlab.experiment_form.next_steps(comparison, database)
        + "\n\n"
        + simlab.analytics.headline(_finished)
    )
    return (comparison,)


if __name__ == "__main__":
    app.run()
