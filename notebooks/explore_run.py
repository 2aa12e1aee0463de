import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="simlab: explore a run")

with app.setup:
    import marimo as mo

    import simlab.analytics
    import simlab.analytics.threads
    import simlab.charts
    import simlab.charts.network
    import simlab.figures
    import simlab.network
    import simlab.notebook_launch


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # One run, turn by turn

    What the population did over the run, what one agent was shown in one turn and
    what it did with it (and why), the conversations agents had, and the follow network.
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
    scores, what the agent did with each, and the reason and probability the policy
    recorded for each action. Agents are not served a feed every turn; the turn slider
    offers the turns in which the picked agent was. The first agent shown is the most
    active one, at its last turn with actions.
    """)
    return


@app.cell
def _(con, run_id):
    activity = simlab.analytics.agent_activity(con, run_id=run_id)
    agent_picker = mo.ui.dropdown(
        list(activity["agent_handle"]),
        value=simlab.analytics.threads.most_active_agent(activity),
        label="Agent",
        searchable=True,
    )
    agent_picker
    return activity, agent_picker


@app.cell
def _(agent_picker, con, run_id):
    served = simlab.analytics.served_turns(con, run_id=run_id, agent_handle=agent_picker.value)
    turn_picker = mo.ui.slider(
        steps=served,
        value=simlab.analytics.threads.turn_with_actions(
            con, run_id=run_id, agent_handle=agent_picker.value, served=served
        ),
        label="Turn (served)",
        show_value=True,
    )
    turn_picker
    return (turn_picker,)


@app.cell
def _(agent_picker, con, run_id, turn_picker):
    feed = simlab.analytics.threads.explained_feed(
        con, run_id=run_id, turn=turn_picker.value, agent_handle=agent_picker.value
    )
    return (feed,)


@app.cell
def _(feed):
    mo.stop(feed.empty, mo.md("This agent was not served a feed in this turn."))
    feed_chart = simlab.charts.feed_scores(feed)
    mo.vstack(
        [
            feed_chart,
            mo.ui.table(
                feed, selection=None, page_size=20, wrapped_columns=["text", "explanation"]
            ),
        ]
    )
    return (feed_chart,)


@app.cell
def _(activity):
    mo.ui.table(activity, selection=None, label="Every agent: feeds, actions, leaning")
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Threads

    Every comment under its post, in turn order. A comment is *with* the post when
    commenter and post lean to the same side (beyond ±1/3), *against* when to opposite
    sides, *neutral* otherwise.
    """)
    return


@app.cell
def _(activity, con, run_id):
    last_turn = simlab.analytics.completed_turns(con, run_ids=[run_id]) - 1
    thread_filters = mo.md("{turns} {agent} {stance} {post}").batch(
        turns=mo.ui.range_slider(
            start=0, stop=max(last_turn, 1), value=[0, max(last_turn, 1)], label="Turns",
            show_value=True,
        ),
        agent=mo.ui.dropdown(
            list(activity["agent_handle"]), label="Commenter (any)", searchable=True
        ),
        stance=mo.ui.dropdown(list(simlab.analytics.threads.STANCES), label="Stance (any)"),
        post=mo.ui.text(label="Post id (any)"),
    )  # fmt: skip
    thread_filters
    return (thread_filters,)


@app.cell
def _(con, run_id, thread_filters):
    picked = thread_filters.value
    threads = simlab.analytics.threads.thread_comments(
        con, run_id=run_id, turns=tuple(picked["turns"]), agent_handle=picked["agent"],
        post_id=picked["post"] or None, stance=picked["stance"],
    )  # fmt: skip
    mo.vstack(
        [
            mo.md(simlab.analytics.threads.thread_markdown(threads)),
            mo.ui.table(
                threads, selection=None, page_size=10, wrapped_columns=["text", "post_text"]
            ),
        ]
    )
    return (threads,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Follow network

    Initial follows come from the population; every later edge is a follow an agent made
    in the run. Dots are coloured by the agent's leaning after the last turn (blue left,
    red right; grey: accounts outside the population) and sized by followers; the
    layout is Fruchterman-Reingold's spring layout.
    """)
    return


@app.cell
def _(con, run_id):
    edges = simlab.analytics.follow_edges(con, run_id=run_id)
    return (edges,)


@app.cell
def _(activity, agent_picker, edges):
    _nodes, _drawn = simlab.network.run_drawing(edges, activity, focus=agent_picker.value)
    neighbourhood_chart = simlab.charts.network.follow_network(
        _nodes, _drawn, focus=agent_picker.value, size=360,
        title=f"{agent_picker.value}: whom it follows and who follows it",
    )  # fmt: skip
    neighbourhood_chart
    return (neighbourhood_chart,)


@app.cell
def _(activity, edges):
    _nodes, _drawn = simlab.network.run_drawing(edges, activity)
    network_chart = simlab.charts.network.follow_network(
        _nodes, _drawn, title="Every agent's follows at the end of the run"
    )
    network_chart
    return (network_chart,)


@app.cell
def _(con, this_run):
    follow_chart = simlab.figures.follow_growth(
        con, title="New follows in this run", **this_run.kwargs
    )
    follow_chart
    return (follow_chart,)


@app.cell
def _(edges):
    degrees = simlab.analytics.degree_table(edges)
    mo.ui.table(degrees, selection=None)
    return (degrees,)


if __name__ == "__main__":
    app.run()
