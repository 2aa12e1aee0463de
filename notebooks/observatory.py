import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="simlab: observatory")

with app.setup:
    import marimo as mo

    import simlab.analytics
    import simlab.charts.evaluations
    import simlab.notebook_launch


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # Observatory: what the agents wrote, scored

    `simlab evaluate` scores every comment (and agent post) with content evaluators:
    VADER sentiment, an offensive-language model, and optionally an LLM judge on harm
    enablement, deception, power seeking and sycophancy (0–10). Scores are
    append-only; each agent's per-turn means and `has_high_<dimension>` flags are in
    its score history.
    """)
    return


@app.cell
def _():
    opened_on = simlab.notebook_launch.inputs()
    con = simlab.analytics.connect(opened_on.db)
    start = simlab.analytics.initial_selection(con, **opened_on.kwargs)
    dimensions = simlab.analytics.evaluated_dimensions(con)
    return con, dimensions, start


@app.cell
def _(dimensions, start):
    mo.stop(
        dimensions.empty,
        mo.md(f"No evaluations yet in this database: run `simlab evaluate` on {start.title}."),
    )
    evaluator_picker = mo.ui.dropdown(
        list(dimensions["evaluator"].unique()),
        value=dimensions["evaluator"].iloc[0],
        label="Evaluator",
    )
    evaluator_picker
    return (evaluator_picker,)


@app.cell
def _(dimensions, evaluator_picker):
    scored = list(dimensions.loc[dimensions["evaluator"] == evaluator_picker.value, "dimension"])
    dimension_picker = mo.ui.dropdown(scored, value=scored[0], label="Dimension")
    dimension_picker
    return (dimension_picker,)


@app.cell
def _(con, dimension_picker, evaluator_picker, start):
    picked = {"evaluator": evaluator_picker.value, "dimension": dimension_picker.value}
    trends = simlab.analytics.dimension_trends(con, **picked, **start.kwargs)
    mo.stop(trends.empty, mo.md(f"Nothing in {start.title} was scored by {picked['evaluator']}."))
    trend_chart = simlab.charts.evaluations.dimension_trend(trends, **picked)
    trend_chart
    return picked, trend_chart, trends


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Leaderboard

    Agents ranked by their mean score over everything they wrote; orange bars mark
    agents flagged `has_high_<dimension>` in at least one turn.
    """)
    return


@app.cell
def _(con, picked, start):
    board = simlab.analytics.leaderboard(con, **picked, **start.kwargs)
    board_chart = simlab.charts.evaluations.leaderboard_bars(board, picked["dimension"])
    mo.vstack([board_chart, mo.ui.table(board, page_size=10)])
    return board, board_chart


@app.cell
def _(con, picked, start):
    top = simlab.analytics.top_items(con, **picked, **start.kwargs, limit=10)
    mo.stop(top.empty)
    mo.ui.table(top, page_size=10, label="Highest-scoring texts")
    return (top,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## One agent at one turn

    Leaning, follows and scores at the end of a turn (stance too when the run recorded it).
    """)
    return


@app.cell
def _(con, top):
    run_facts = simlab.analytics.runs(con).drop_duplicates("run_id").set_index("run_id")
    state_picker = mo.ui.dictionary(
        {
            "run_id": mo.ui.dropdown(
                list(run_facts.index), value=top["run_id"].iloc[0], label="Run"
            ),
            "agent": mo.ui.text(value=top["agent_handle"].iloc[0], label="Agent"),
            "turn": mo.ui.number(value=int(top["turn"].iloc[0]), start=0, label="Turn"),
        }
    )
    state_picker
    return (state_picker,)


@app.cell
def _(con, state_picker):
    state = simlab.analytics.agent_state_at(con, **state_picker.value)
    mo.vstack(
        [
            mo.md(f"leaning **{state.leaning}** · follows **{len(state.follows)}** accounts"),
            mo.ui.table(state.scores, label="Scores at this turn"),
        ]
    )
    return (state,)


if __name__ == "__main__":
    app.run()
