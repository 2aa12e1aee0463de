import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="simlab: explore a run")

with app.setup:
    import marimo as mo

    import simlab.analytics
    import simlab.charts
    import simlab.figures
    import simlab.notebook_launch


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # One run, turn by turn

    What the population did over the run, what one agent was shown in one turn and
    what it did with it, the comments agents wrote, and how the follow network grew.
    """)
    return


@app.cell
def _():
    opened_on = simlab.notebook_launch.inputs()
    con = simlab.analytics.connect(opened_on.db)
    start_run = simlab.analytics.initial_run(con, **opened_on.kwargs)
    return con, start_run


@app.cell
def _(con, start_run):
    run_options = simlab.analytics.run_options(con)
    run_picker = mo.ui.dropdown(
        run_options,
        value=simlab.analytics.label_of(run_options, start_run),
        label="Run",
        searchable=True,
    )
    run_picker
    return (run_picker,)


@app.cell
def _(run_picker):
    run_id = run_picker.value
    this_run = simlab.analytics.Selection(run_ids=(run_id,))
    return run_id, this_run


@app.cell(hide_code=True)
def _(con, run_id):
    mo.md(simlab.analytics.run_facts(con, run_id=run_id))
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Timeline
    """)
    return


@app.cell
def _(con, this_run):
    metric_options = simlab.analytics.metric_options(con, **this_run.kwargs)
    metric_picker = mo.ui.multiselect(
        metric_options, value=simlab.analytics.default_metrics(metric_options), label="Metrics"
    )
    metric_picker
    return (metric_picker,)


@app.cell
def _(con, metric_picker, this_run):
    metric_charts = simlab.figures.metric_charts(con, keys=metric_picker.value, **this_run.kwargs)
    mo.vstack(metric_charts)
    return (metric_charts,)


@app.cell
def _(con, this_run):
    actions_chart = simlab.figures.actions_over_turns(con, **this_run.kwargs)
    actions_chart
    return (actions_chart,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## One agent's feed

    The items the feed algorithm served the agent in one turn, by rank, with their
    scores and what the agent did with each. Agents are not served a feed every turn;
    the turn slider offers the turns in which the picked agent was.
    """)
    return


@app.cell
def _(con, run_id):
    activity = simlab.analytics.agent_activity(con, run_id=run_id)
    agent_picker = mo.ui.dropdown(
        list(activity["agent_handle"]),
        value=simlab.analytics.busiest_agent(activity),
        label="Agent",
        searchable=True,
    )
    agent_picker
    return activity, agent_picker


@app.cell
def _(agent_picker, con, run_id):
    served = simlab.analytics.served_turns(con, run_id=run_id, agent_handle=agent_picker.value)
    turn_picker = mo.ui.slider(
        steps=served, value=served[-1], label="Turn (served)", show_value=True
    )
    turn_picker
    return (turn_picker,)


@app.cell
def _(agent_picker, con, run_id, turn_picker):
    feed = simlab.analytics.agent_feed(
        con, run_id=run_id, turn=turn_picker.value, agent_handle=agent_picker.value
    )
    return (feed,)


@app.cell
def _(feed):
    mo.stop(feed.empty, mo.md("This agent was not served a feed in this turn."))
    feed_chart = simlab.charts.feed_scores(feed)
    mo.vstack([feed_chart, mo.ui.table(feed, selection=None, page_size=20)])
    return (feed_chart,)


@app.cell
def _(activity):
    mo.ui.table(activity, selection=None, label="Every agent: feeds, actions, leaning")
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Comments
    """)
    return


@app.cell
def _(con, run_id):
    run_comments = simlab.analytics.comments(con, run_id=run_id, limit=200)
    mo.ui.table(run_comments, selection=None)
    return (run_comments,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Follow network

    Initial follows come from the population; every later edge is a follow an agent made
    in the run. The table lists the most followed accounts at the end of the run.
    """)
    return


@app.cell
def _(con, this_run):
    follow_chart = simlab.figures.follow_growth(
        con, title="New follows in this run", **this_run.kwargs
    )
    follow_chart
    return (follow_chart,)


@app.cell
def _(con, run_id):
    edges = simlab.analytics.follow_edges(con, run_id=run_id)
    degrees = simlab.analytics.degree_table(edges)
    mo.ui.table(degrees, selection=None)
    return (degrees,)


if __name__ == "__main__":
    app.run()
