import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="simlab: live experiment")

with app.setup:
    import marimo as mo

    import simlab.experiment_form
    import simlab.feeds
    import simlab.live_run
    import simlab.live_view
    import simlab.notebook_launch
    import simlab.opinion
    import simlab.policies


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # A live experiment

    Pick a population, a feed algorithm and its parameters, how agents decide and how
    their opinions move; then **Start** plays a turn on every tick, **Step** plays one,
    **Pause** stops playing and **Reset** ends the run (an unfinished run is kept as
    failed and can be finished with `simlab resume`). Each turn is written to the
    database as it is played: the finished run has the rows `simlab run` writes for the
    same settings.
    """)
    return


@app.cell
def _():
    database = simlab.notebook_launch.database_file(simlab.notebook_launch.inputs().db)
    populations = simlab.experiment_form.population_options(database)
    return database, populations


@app.cell
def _(populations):
    choices = mo.md("""
    {population} {feed} {policy} {opinion}

    {turns} {agents} {seed}
    """).batch(
        population=mo.ui.dropdown(
            list(populations), value=next(iter(populations)), label="Population"
        ),
        feed=mo.ui.dropdown(simlab.feeds.names(), value="popularity", label="Feed"),
        policy=mo.ui.dropdown(simlab.policies.names(), value="rule_based", label="Policy"),
        opinion=mo.ui.dropdown(simlab.opinion.names(), value="assimilation", label="Opinion model"),
        turns=mo.ui.number(start=1, stop=100_000, value=10, label="Turns"),
        agents=mo.ui.number(start=0, value=0, label="Agents (0 = all)"),
        seed=mo.ui.number(start=0, value=0, label="Seed"),
    )
    choices
    return (choices,)


@app.cell
def _(choices):
    feed_params = simlab.experiment_form.param_widgets(
        simlab.feeds.FEEDS.get(choices.value["feed"]).params
    )
    policy_params = simlab.experiment_form.param_widgets(
        simlab.policies.POLICIES.get(choices.value["policy"]).params
    )
    opinion_params = simlab.experiment_form.param_widgets(
        simlab.opinion.OPINIONS.get(choices.value["opinion"]).params
    )
    mo.accordion(
        {
            f"Feed parameters ({choices.value['feed']})": feed_params,
            f"Policy parameters ({choices.value['policy']})": policy_params,
            f"Opinion parameters ({choices.value['opinion']})": opinion_params,
        }
    )
    return feed_params, opinion_params, policy_params


@app.cell
def _(choices, feed_params, opinion_params, policy_params, populations):
    config, config_note = simlab.experiment_form.checked_live_config(
        {**choices.value, "population": populations[choices.value["population"]]},
        feed_params.value,
        policy_params.value,
        opinion_params.value,
    )
    mo.md(config_note)
    return (config,)


@app.cell
def _(database):
    session = simlab.live_run.LiveSession(database)
    get_version, set_version = mo.state(0)
    return get_version, session, set_version


@app.cell
def _(config, session, set_version):
    start_button = mo.ui.button(
        label="Start", kind="success", on_click=lambda _: set_version(session.start(config))
    )
    step_button = mo.ui.button(label="Step", on_click=lambda _: set_version(session.step(config)))
    pause_button = mo.ui.button(label="Pause", on_click=lambda _: set_version(session.pause()))
    reset_button = mo.ui.button(
        label="Reset", kind="danger", on_click=lambda _: set_version(session.reset())
    )
    ticker = mo.ui.refresh(
        options=["0.2s", "0.5s", "1s", "2s"], default_interval="0.5s", label="Tick every"
    )
    mo.hstack([start_button, step_button, pause_button, reset_button, ticker], justify="start")
    return (ticker,)


@app.cell
def _(session, set_version, ticker):
    # Every tick re-runs this cell; a turn is played only while the run is started.
    played = session.tick() if ticker.value is not None else False
    if played:
        set_version(session.version)
    return


@app.cell
def _(database, get_version, session):
    shown_version = get_version()
    live_charts = simlab.live_view.metric_charts(session.run)
    leaning_chart = simlab.live_view.leaning_chart(session.run)
    mo.vstack(
        [
            mo.Html(simlab.live_view.progress_html(session.run)),
            mo.md(simlab.live_view.status_markdown(session, database)),
            mo.hstack([leaning_chart, mo.vstack(live_charts)], widths=[1, 1]),
        ]
    )
    return leaning_chart, live_charts, shown_version


if __name__ == "__main__":
    app.run()
