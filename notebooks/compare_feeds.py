import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="simlab: compare feeds")

with app.setup:
    import marimo as mo

    import simlab.analytics
    import simlab.analytics.groups
    import simlab.charts.groups
    import simlab.exports
    import simlab.figures
    import simlab.notebook_launch
    import simlab.report_llm


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # How do the feeds differ?

    Every arm of a comparison runs the same population with a different feed algorithm.
    Replicate *r* of every arm uses the same seed (common random numbers), so each
    difference to the first arm is paired by replicate and its 95% interval is
    $\bar d \pm t_{0.975,\,n-1}\, s_d / \sqrt{n}$ over the *n* replicates. Runs picked
    by hand are paired the same way when they form paired replicates (every arm has one
    run per seed, the same seeds, population and settings); otherwise they get no
    interval.
    """)
    return


@app.cell
def _():
    opened_on = simlab.notebook_launch.inputs()
    con = simlab.analytics.connect(opened_on.db)
    start = simlab.analytics.initial_selection(con, **opened_on.kwargs)
    return con, start


@app.cell
def _(con, start):
    comparison_options = simlab.analytics.comparison_options(con)
    run_options = simlab.analytics.run_options(con)
    comparison_picker = mo.ui.dropdown(
        comparison_options,
        value=simlab.analytics.label_of(comparison_options, start.comparison_id),
        label="Comparison",
    )
    runs_picker = mo.ui.multiselect(
        run_options, value=simlab.analytics.labels_of(run_options, start.run_ids), label="or runs"
    )
    mo.hstack([comparison_picker, runs_picker], justify="start")
    return comparison_picker, runs_picker


@app.cell
def _(comparison_picker, runs_picker):
    chosen = simlab.analytics.Selection.from_pickers(comparison_picker.value, runs_picker.value)
    return (chosen,)


@app.cell
def _(chosen, con):
    summary = simlab.analytics.summary(con, **chosen.kwargs)
    return (summary,)


@app.cell(hide_code=True)
def _(chosen, summary):
    mo.md(f"""
    ## Headline: {chosen.title}

    {simlab.analytics.headline(summary)}
    """)
    return


@app.cell
def _(summary):
    difference_chart = simlab.figures.difference(summary)
    difference_chart
    return (difference_chart,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Metrics over turns

    Lines are the mean over replicates, bands the 95% interval of that mean.
    """)
    return


@app.cell
def _(chosen, con):
    metric_options = simlab.analytics.metric_options(con, **chosen.kwargs)
    metric_picker = mo.ui.multiselect(
        metric_options, value=simlab.analytics.default_metrics(metric_options), label="Metrics"
    )
    metric_picker
    return (metric_picker,)


@app.cell
def _(chosen, con, metric_picker):
    metric_charts = simlab.figures.metric_charts(con, keys=metric_picker.value, **chosen.kwargs)
    mo.vstack(metric_charts)
    return (metric_charts,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## What agents did
    """)
    return


@app.cell
def _(chosen, con):
    action_mix_chart = simlab.figures.action_mix(con, **chosen.kwargs)
    action_mix_chart
    return (action_mix_chart,)


@app.cell
def _(chosen, con):
    actions_chart = simlab.figures.actions_over_turns(con, **chosen.kwargs)
    actions_chart
    return (actions_chart,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## What agents saw, and what it did to them

    Topic entropy per agent is $-\sum_k p_k \ln p_k$ over the topics of one agent's feed;
    cross-cutting exposure is the share of feed items whose leaning is on the other side
    of the agent's.
    """)
    return


@app.cell
def _(chosen, con):
    exposure_chart = simlab.figures.exposure_diversity(con, **chosen.kwargs)
    exposure_chart
    return (exposure_chart,)


@app.cell
def _(chosen, con):
    polarization_chart = simlab.figures.polarization(con, **chosen.kwargs)
    polarization_chart
    return (polarization_chart,)


@app.cell
def _(chosen, con):
    follow_chart = simlab.figures.follow_growth(con, **chosen.kwargs)
    follow_chart
    return (follow_chart,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Differences with confidence intervals

    Each arm's mean over its runs, and its difference to the first arm (paired by replicate).
    Turn metrics enter as their mean over the run's turns.
    """)
    return


@app.cell
def _(summary):
    summary_table = simlab.analytics.summary_table(summary)
    mo.ui.table(
        summary_table, selection=None, page_size=max(10, len(summary_table)), show_data_types=False
    )
    return


@app.cell
def _(chosen, con):
    llm_usage = simlab.report_llm.llm_usage_section(con, chosen, design="")
    if llm_usage is None:
        usage_view = mo.md("## LLM usage\n\nNo LLM calls in this selection.")
    else:
        usage_view = mo.vstack(
            [
                mo.md(f"## {llm_usage.title}\n\n{llm_usage.text}"),
                mo.ui.table(llm_usage.tables[0], selection=None, show_data_types=False),
                *(figure.chart for figure in llm_usage.figures.values()),
            ]
        )
    usage_view
    return (llm_usage,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Metrics by agent group

    Agents grouped by their starting leaning (left < −1/3 < centre < 1/3 < right) and
    by activity (high: at least the median activity rate). Each bar is the arm's mean
    over its runs.
    """)
    return


@app.cell
def _(chosen, con):
    groups = simlab.analytics.groups.group_metrics(con, **chosen.kwargs)
    group_summary = simlab.analytics.groups.group_summary(groups)
    mo.stop(group_summary.empty, mo.md("No agents with recorded leanings in this selection."))
    group_chart = simlab.charts.groups.group_bars(group_summary)
    group_chart
    return (group_chart,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Download the data

    Every frame drawn or tabled above, for this selection, as CSV or Parquet (computed
    when you click).
    """)
    return


@app.cell
def _(chosen, con, metric_picker):
    shown = simlab.exports.shown_frames(con, keys=metric_picker.value, **chosen.kwargs)
    simlab.exports.download_buttons(shown)
    return (shown,)


if __name__ == "__main__":
    app.run()
