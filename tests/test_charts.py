"""Chart builders: schema-valid specs with the right encodings, colours, sizes and files.

Every frame is built by hand with the columns simlab.analytics returns. ``to_dict()``
validates each spec against the Vega-Lite schema; the helpers below walk the spec
to find encodings in layered, faceted and concatenated charts.
"""

from __future__ import annotations

import html
import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert

from simlab import charts, feeds, metrics
from simlab.charts import files as chart_files

ARMS = ["chronological", "personalized", "bridging"]
TURNS = range(6)
EDGES = np.linspace(-1.0, 1.0, 6)


# --- hand-made analytics frames -------------------------------------------------------


def bands_frame(arms=ARMS, turns=TURNS) -> pd.DataFrame:
    rows = [
        (arm, t, 4, 0.1 * i + 0.01 * t, 0.1 * i + 0.01 * t - 0.02, 0.1 * i + 0.01 * t + 0.02)
        for i, arm in enumerate(arms)
        for t in turns
    ]
    return pd.DataFrame(rows, columns=["arm", "turn", "n", "mean", "ci_low", "ci_high"])


def mix_frame(arms=ARMS) -> pd.DataFrame:
    # Deliberately out of the like/comment/follow order.
    rows = [
        (arm, action, 0.1 * (i + 1) * (j + 1))
        for i, arm in enumerate(arms)
        for j, action in enumerate(["follow", "like", "comment"])
    ]
    return pd.DataFrame(rows, columns=["arm", "action", "per_agent_turn"])


def counts_frame(arms=ARMS, replicates=3, turns=TURNS) -> pd.DataFrame:
    rows = [
        (f"{arm}-{r}", arm, r, t, action, 10 * i + r + t)
        for i, arm in enumerate(arms)
        for r in range(replicates)
        for t in turns
        for action in ("like", "comment", "follow")
    ]
    return pd.DataFrame(rows, columns=["run_id", "arm", "replicate", "turn", "action", "count"])


def exposure_frame(arms=ARMS, replicates=3, turns=TURNS) -> pd.DataFrame:
    rows = [
        (arm, r, t, 1.0 + 0.1 * t + r, 0.2 + 0.01 * t + 0.1 * i)
        for i, arm in enumerate(arms)
        for r in range(replicates)
        for t in turns
    ]
    columns = ["arm", "replicate", "turn", "topic_entropy_per_agent", "cross_cutting_share"]
    return pd.DataFrame(rows, columns=columns)


def leaning_frame(arms=ARMS, turns=TURNS) -> pd.DataFrame:
    rows = [
        (arm, t, lo, hi, 0.2)
        for arm in arms
        for t in turns
        for lo, hi in zip(EDGES[:-1], EDGES[1:], strict=True)
    ]
    return pd.DataFrame(rows, columns=["arm", "turn", "bin_low", "bin_high", "share"])


def follows_frame(arms=ARMS, replicates=3, turns=TURNS) -> pd.DataFrame:
    rows = [
        (f"{arm}-{r}", arm, r, t, 2, 2 * (t + 1) + r + 10 * i)
        for i, arm in enumerate(arms)
        for r in range(replicates)
        for t in turns
    ]
    columns = ["run_id", "arm", "replicate", "turn", "new_follows", "cumulative"]
    return pd.DataFrame(rows, columns=columns)


KEYS = ["turn.engagement.rate", "turn.exposure.cross_cutting_share"]


def summary_frame(arms=ARMS, keys=KEYS) -> pd.DataFrame:
    rows = []
    for key in keys:
        for i, arm in enumerate(arms):
            diff = 0.1 * i  # the first arm is the baseline: difference 0
            rows.append((key, arm, 5, 1.0, 0.9, 1.1, diff, diff - 0.05 * i, diff + 0.05 * i))
    columns = ["key", "arm", "n", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]
    return pd.DataFrame(rows, columns=columns)


def feed_frame(size=10) -> pd.DataFrame:
    rows = [
        (
            r,
            f"post{r}",
            1.0 / r,
            "science",
            0.1,
            "ada.bsky.social",
            "text " * 50,
            False,
            False,
            False,
        )
        for r in range(1, size + 1)
    ]
    columns = ["rank", "post_id", "score", "topic", "post_leaning", "author_handle", "text"]
    frame = pd.DataFrame(rows, columns=[*columns, "liked", "commented", "followed_author"])
    frame.loc[frame["rank"] == 2, "liked"] = True
    frame.loc[frame["rank"] == 3, ["liked", "commented"]] = True
    frame.loc[frame["rank"] == 4, ["liked", "followed_author"]] = True
    return frame


BUILDERS = {
    "metric_over_turns": (
        lambda f: charts.metric_over_turns(f, "turn.engagement.rate"),
        bands_frame,
    ),
    "action_mix": (charts.action_mix, mix_frame),
    "actions_over_turns": (charts.actions_over_turns, counts_frame),
    "exposure_diversity": (charts.exposure_diversity, exposure_frame),
    "polarization": (charts.polarization, leaning_frame),
    "follow_growth": (charts.follow_growth, follows_frame),
    "difference_dots": (charts.difference_dots, summary_frame),
    "feed_scores": (charts.feed_scores, lambda: feed_frame()),
}


# --- spec helpers ---------------------------------------------------------------------


def specs(node):
    """Every dict in the spec that carries an ``encoding`` (layers, facets, concat panels)."""
    if isinstance(node, dict):
        if "encoding" in node:
            yield node
        for value in node.values():
            yield from specs(value)
    elif isinstance(node, list):
        for item in node:
            yield from specs(item)


def encodings(spec: dict, channel: str) -> list[dict]:
    return [s["encoding"][channel] for s in specs(spec) if channel in s["encoding"]]


def mark_type(spec: dict) -> str:
    mark = spec["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def arm_colors_of(spec: dict) -> dict[str, str]:
    """arm -> colour, from every arm colour scale in the spec (they must agree)."""
    mapping: dict[str, str] = {}
    for color in encodings(spec, "color"):
        if color.get("field") != "arm":
            continue
        scale = color["scale"]
        for arm, value in zip(scale["domain"], scale["range"], strict=True):
            assert mapping.setdefault(arm, value) == value
    assert mapping, "no arm colour scale found"
    return mapping


def arm_domains(spec: dict) -> list[list[str]]:
    return [c["scale"]["domain"] for c in encodings(spec, "color") if c.get("field") == "arm"]


def rows(spec: dict) -> list[dict]:
    return [row for values in spec["datasets"].values() for row in values]


def titles(spec: dict) -> list[str]:
    found = []
    for channel in ("x", "y"):
        found += [e["title"] for e in encodings(spec, channel) if e.get("title")]
    return found


# --- each builder ---------------------------------------------------------------------


def test_metric_over_turns_draws_a_line_per_arm_on_its_ci_band():
    spec = charts.metric_over_turns(bands_frame(), "turn.engagement.rate").to_dict()
    layers = spec["layer"]
    assert [mark_type(layer) for layer in layers] == ["area", "line"]
    band, line = (layer["encoding"] for layer in layers)
    assert (band["y"]["field"], band["y2"]["field"]) == ("ci_low", "ci_high")
    assert line["y"]["field"] == "mean"
    assert line["y"]["title"] == "Engagement rate (actions per impression)"
    assert all(e["field"] == "turn" and e["title"] == "Turn" for e in encodings(spec, "x"))
    assert arm_domains(spec) == [ARMS, ARMS]
    # Both layers share one colour encoding: legend=None on the band would drop the legend.
    assert band["color"] == line["color"] and "legend" not in line["color"]
    assert len(rows(spec)) == len(bands_frame())


def test_metric_over_turns_finds_its_key_and_falls_back_to_it():
    frame = bands_frame().assign(key="turn.exposure.topic_entropy_per_agent")
    assert (
        "(nats)" in charts.metric_over_turns(frame).to_dict()["layer"][1]["encoding"]["y"]["title"]
    )
    frame = bands_frame()
    frame.attrs["key"] = "turn.attention.like_gini_posts"
    assert "Gini" in charts.metric_over_turns(frame).to_dict()["layer"][1]["encoding"]["y"]["title"]
    unknown = charts.metric_over_turns(bands_frame(), "turn.custom.thing").to_dict()
    assert unknown["layer"][1]["encoding"]["y"]["title"] == "turn.custom.thing"
    custom = charts.metric_over_turns(bands_frame(), title="T", y_title="Y (units)").to_dict()
    assert custom["title"] == "T"
    assert custom["layer"][1]["encoding"]["y"]["title"] == "Y (units)"


def test_metric_over_turns_refuses_two_metrics():
    frame = pd.concat([bands_frame().assign(key=k) for k in KEYS])
    with pytest.raises(ValueError, match="one metric expected"):
        charts.metric_over_turns(frame)


def test_metric_labels_carry_units():
    labels = {key: charts.metric_label(key) for key in metrics.METRICS.names()}
    assert labels["turn.exposure.cross_cutting_share"] == "Cross-cutting exposure (share of items)"
    assert all(label.endswith(")") and " (" in label for label in labels.values())
    assert all("nats" in labels[k] for k in labels if "entropy" in k)
    assert all("Gini, 0–1" in labels[k] for k in labels if "gini" in k)
    assert "−1 to 1" in labels["turn.opinion.mean_leaning"]
    assert charts.metric_label("no.such.key") == "no.such.key"


def test_action_mix_groups_bars_by_action_in_like_comment_follow_order():
    spec = charts.action_mix(mix_frame()).to_dict()
    enc = spec["encoding"]
    assert mark_type(spec) == "bar"
    assert enc["x"]["field"] == "action" and enc["x"]["sort"] == ["like", "comment", "follow"]
    assert enc["xOffset"]["field"] == "arm" and enc["xOffset"]["sort"] == ARMS
    assert enc["y"]["title"] == "Actions per agent-turn (count)"
    assert arm_domains(spec) == [ARMS]


def test_actions_over_turns_averages_replicates_one_panel_per_action():
    spec = charts.actions_over_turns(counts_frame()).to_dict()
    assert spec["facet"]["column"]["field"] == "action"
    assert spec["facet"]["column"]["sort"] == ["like", "comment", "follow"]
    data = pd.DataFrame(rows(spec))
    assert len(data) == len(ARMS) * len(TURNS) * 3
    # count = 10 i + r + t over replicates r = 0, 1, 2: mean 10 i + 1 + t.
    got = data.query("arm == 'bridging' and turn == 4 and action == 'comment'")["count"]
    assert got.tolist() == [10 * 2 + 1 + 4]
    assert "(count per turn)" in titles(spec)[1]


def test_exposure_diversity_has_two_panels_with_units_and_replicate_means():
    spec = charts.exposure_diversity(exposure_frame()).to_dict()
    panels = spec["hconcat"]
    assert len(panels) == 2
    y_titles = [p["encoding"]["y"]["title"] for p in panels]
    assert y_titles == ["Topic entropy per agent (nats)", "Cross-cutting exposure (share of items)"]
    assert [p["encoding"]["y"]["field"] for p in panels] == [
        "topic_entropy_per_agent",
        "cross_cutting_share",
    ]
    data = pd.DataFrame(rows(spec))
    assert len(data) == len(ARMS) * len(TURNS)
    # entropy = 1 + 0.1 t + r over r = 0, 1, 2: mean 2 + 0.1 t.
    got = data.query("arm == 'personalized' and turn == 3")["topic_entropy_per_agent"]
    assert got.tolist() == pytest.approx([2.3])
    assert arm_domains(spec) == [ARMS, ARMS]


def test_polarization_is_a_turn_by_leaning_heatmap_per_arm():
    spec = charts.polarization(leaning_frame()).to_dict()
    inner = spec["spec"]
    enc = inner["encoding"]
    assert mark_type(inner) == "rect"
    assert (enc["x"]["field"], enc["x2"]["field"]) == ("turn_start", "turn_end")
    assert (enc["y"]["field"], enc["y2"]["field"]) == ("bin_low", "bin_high")
    assert "−1 to 1" in enc["y"]["title"]
    assert enc["color"]["field"] == "share" and enc["color"]["scale"]["scheme"] == "viridis"
    assert spec["facet"]["field"] == "arm" and spec["facet"]["sort"] == ARMS
    first = pd.DataFrame(rows(spec)).query("turn == 2").iloc[0]
    assert (first["turn_start"], first["turn_end"]) == (1.5, 2.5)


def test_follow_growth_shows_replicate_mean_and_range():
    spec = charts.follow_growth(follows_frame()).to_dict()
    band, line = (layer["encoding"] for layer in spec["layer"])
    assert (band["y"]["field"], band["y2"]["field"]) == ("low", "high")
    assert line["y"]["field"] == "mean" and "(count)" in line["y"]["title"]
    data = pd.DataFrame(rows(spec))
    # cumulative = 2 (t + 1) + r + 10 i over r = 0, 1, 2.
    got = data.query("arm == 'chronological' and turn == 5").iloc[0]
    assert (got["mean"], got["low"], got["high"]) == (13, 12, 14)
    assert arm_domains(spec) == [ARMS, ARMS]


def test_difference_dots_is_a_forest_plot_against_the_first_arm():
    spec = charts.difference_dots(summary_frame()).to_dict()
    assert spec["facet"]["field"] == "metric"
    # "Label (unit)" in two header lines: split at "|" by the header's labelExpr.
    assert spec["facet"]["sort"] == [charts.metric_label(k).replace(" (", "|(", 1) for k in KEYS]
    assert spec["facet"]["header"]["labelExpr"] == "split(datum.value, '|')"
    assert spec["columns"] == 2
    assert spec["resolve"]["scale"]["x"] == "independent"
    zero, bars, dots = spec["spec"]["layer"]
    assert mark_type(zero) == "rule" and zero["encoding"]["x"]["datum"] == 0
    assert (bars["encoding"]["x"]["field"], bars["encoding"]["x2"]["field"]) == (
        "diff_low",
        "diff_high",
    )
    assert bars["encoding"]["x"]["title"] == "Difference (95% CI)"  # baseline: in the title
    assert dots["encoding"]["x"]["field"] == "diff"
    data = pd.DataFrame(rows(spec))
    assert set(data["arm"]) == {"personalized", "bridging"}  # the baseline is dropped
    assert arm_domains(spec) == [["personalized", "bridging"]] * 2


def test_difference_dots_takes_another_baseline_and_refuses_a_lone_one():
    spec = charts.difference_dots(summary_frame(), baseline="bridging").to_dict()
    assert set(pd.DataFrame(rows(spec))["arm"]) == {"chronological", "personalized"}
    with pytest.raises(ValueError, match="no arm besides the baseline"):
        charts.difference_dots(summary_frame(arms=["chronological"]))


def test_feed_scores_colours_each_item_by_the_strongest_action():
    spec = charts.feed_scores(feed_frame().sample(frac=1, random_state=1)).to_dict()
    enc = spec["encoding"]
    assert enc["x"]["field"] == "rank" and enc["y"]["field"] == "score"
    assert "(1 = top)" in enc["x"]["title"]
    assert enc["color"]["scale"]["domain"] == list(charts.FEED_ACTIONS)
    data = pd.DataFrame(rows(spec))
    assert data["rank"].tolist() == list(range(1, 11))
    assert data["action"].tolist()[:5] == [
        "no action",
        "liked",
        "commented",
        "followed author",
        "no action",
    ]
    assert data["text"].str.len().max() <= 120


def test_feed_scores_wants_one_feed():
    frame = pd.concat([feed_frame(), feed_frame()])
    with pytest.raises(ValueError, match="ranks repeat"):
        charts.feed_scores(frame)


# --- colours and theme ----------------------------------------------------------------


def test_every_registered_feed_has_its_own_colour_in_registration_order():
    colors = charts.feed_colors()
    assert list(colors) == feeds.FEEDS.registration_order()
    assert list(colors.values()) == charts.palette(len(colors))
    assert len(set(colors.values())) == len(colors)
    assert not set(colors.values()) & set(charts.extra_colors())


def test_the_palette_never_repeats_a_colour():
    colors = charts.palette(60)
    assert len(set(colors)) == 60
    assert colors[:7] == [
        "#000000",
        "#E69F00",
        "#0072B2",
        "#56B4E9",
        "#009E73",
        "#CC79A7",
        "#D55E00",
    ]
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colors)
    assert charts.palette(3) == colors[:3]


def test_an_arm_keeps_its_colour_across_charts_with_different_arm_sets():
    one = ["personalized", "my_variant", "chronological"]
    two = ["bridging", "diverse", "my_variant", "personalized", "random"]
    first = arm_colors_of(charts.metric_over_turns(bands_frame(arms=one), "k").to_dict())
    second = arm_colors_of(charts.follow_growth(follows_frame(arms=two)).to_dict())
    for arm in set(one) & set(two):
        assert first[arm] == second[arm]
    assert first["personalized"] == charts.feed_colors()["personalized"]
    assert first["my_variant"] in charts.extra_colors()
    scale = charts.color_scale(two)
    assert scale.domain == two and scale.range == [second[arm] for arm in two]


def test_unknown_arms_get_distinct_deterministic_colours():
    extra = charts.extra_colors()
    arms = [f"variant_{i}" for i in range(len(extra))]
    colors = charts.arm_colors(arms)
    assert sorted(colors) == sorted(extra)  # no collision while colours remain
    assert charts.arm_colors(arms) == colors
    assert charts.arm_colors(["chronological", "chronological"]) == ["#000000"]


def test_more_unknown_arms_than_extra_colours_still_get_distinct_colours():
    arms = [*feeds.names(), *(f"variant_{i}" for i in range(3 * len(charts.extra_colors())))]
    colors = charts.arm_colors(arms)
    assert len(set(colors)) == len(arms)
    assert charts.arm_colors(arms) == colors


def test_the_simlab_theme_is_enabled_and_applied():
    assert alt.theme.active == charts.THEME == "simlab"
    config = charts.action_mix(mix_frame()).to_dict()["config"]
    assert config["view"]["continuousWidth"] == 600
    assert "sans-serif" in config["font"]


# --- sizes, empty frames, files --------------------------------------------------------

LONG = range(2000)  # 3 arms x 2000 turns = 6000 rows after aggregation


BIG = {
    "metric_over_turns": lambda: charts.metric_over_turns(bands_frame(turns=LONG), "k"),
    "actions_over_turns": lambda: charts.actions_over_turns(counts_frame(replicates=40)),
    "exposure_diversity": lambda: charts.exposure_diversity(exposure_frame(turns=LONG)),
    "exposure_many_replicates": lambda: charts.exposure_diversity(exposure_frame(replicates=400)),
    "polarization": lambda: charts.polarization(leaning_frame(turns=range(400))),
    "follow_growth": lambda: charts.follow_growth(follows_frame(replicates=5, turns=LONG)),
    "feed_scores": lambda: charts.feed_scores(feed_frame(size=6000)),
    "action_mix": lambda: charts.action_mix(pd.concat([mix_frame()] * 2000)),
}


@pytest.mark.parametrize("name", BIG)
def test_large_frames_never_raise_max_rows(name):
    spec = BIG[name]().to_dict()
    assert 0 < len(rows(spec)) <= charts.MAX_ROWS


def test_thinned_charts_say_so_and_keep_first_and_last_turn():
    frame = bands_frame(turns=LONG)
    assert len(frame) > 5000
    spec = charts.metric_over_turns(frame, "k").to_dict()
    assert "1 in 2 turns shown" in spec["title"]["subtitle"]
    turns = sorted({row["turn"] for row in rows(spec)})
    assert turns[0] == 0 and turns[-1] == 1999 and turns[1] == 2
    small = charts.metric_over_turns(bands_frame(), "k").to_dict()
    assert "title" not in small


def test_thinned_heatmap_cells_cover_the_skipped_turns():
    spec = charts.polarization(leaning_frame(turns=range(400))).to_dict()
    data = pd.DataFrame(rows(spec)).drop_duplicates("turn").sort_values("turn")
    assert (data["turn_end"].iloc[:-1].to_numpy() == data["turn_start"].iloc[1:].to_numpy()).all()


def test_too_many_forest_rows_is_a_clear_value_error():
    keys = [f"turn.custom.k{i}" for i in range(3000)]
    with pytest.raises(ValueError, match="filter the frame first"):
        charts.difference_dots(summary_frame(keys=keys))


@pytest.mark.parametrize("name", BUILDERS)
def test_every_builder_gives_channel_objects_not_shorthand_strings(name, shorthand_channels):
    build, make = BUILDERS[name]
    assert build(make()).to_dict()
    assert shorthand_channels == []


@pytest.mark.parametrize("name", BUILDERS)
def test_every_builder_works_under_vegafusion_too(name):
    build, make = BUILDERS[name]
    chart = build(make())
    with alt.data_transformers.enable("vegafusion"):
        assert chart.to_dict(format="vega")["$schema"].startswith("https://vega.github.io")


@pytest.mark.parametrize("name", BUILDERS)
def test_empty_frames_raise_a_clear_value_error(name):
    build, make = BUILDERS[name]
    with pytest.raises(ValueError, match=f"{name}: the frame is empty"):
        build(make().iloc[0:0])


@pytest.mark.parametrize("name", BUILDERS)
def test_missing_columns_are_named(name):
    build, make = BUILDERS[name]
    frame = make()
    column = "rank" if name == "feed_scores" else "arm"
    with pytest.raises(ValueError, match=f"missing column.*'{column}'"):
        build(frame.drop(columns=column))


def test_save_writes_png_svg_and_pdf(tmp_path):
    png, svg, pdf = charts.save(
        charts.metric_over_turns(bands_frame(), "k"), tmp_path / "out" / "fig.v2"
    )
    assert (png.name, svg.name, pdf.name) == ("fig.v2.png", "fig.v2.svg", "fig.v2.pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert "<svg" in svg.read_text()
    assert pdf.read_bytes()[:5] == b"%PDF-"
    (only,) = charts.save(charts.action_mix(mix_frame()), tmp_path / "one", formats=("svg",))
    assert only.suffix == ".svg" and not (tmp_path / "one.png").exists()


def _svg_texts(chart) -> list[str]:
    svg = vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=chart_files.vl_version())
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.mark.parametrize("name", ["metric_over_turns", "follow_growth", "actions_over_turns",
                                  "exposure_diversity", "action_mix", "difference_dots"])  # fmt: skip
def test_every_arm_chart_draws_a_legend_naming_each_arm(name):
    """Rendered, not just specified: Vega-Lite silently drops a layer chart's legend."""
    build, make = BUILDERS[name]
    frame = make()
    texts = _svg_texts(build(frame))
    assert "Feed" in texts, name
    arms = set(frame["arm"].astype(str)) - ({ARMS[0]} if name == "difference_dots" else set())
    assert arms <= set(texts), (name, arms - set(texts))


def test_a_layer_with_legend_none_loses_the_legend():
    """Why the bands keep the colour legend: the behaviour the builders work around."""
    base = alt.Chart(bands_frame()).encode(x="turn:Q", color=alt.Color("arm:N", title="Feed"))
    band = base.mark_area().encode(
        y="ci_low:Q", y2="ci_high:Q", color=alt.Color("arm:N", legend=None)
    )
    assert "Feed" not in _svg_texts(alt.layer(band, base.mark_line().encode(y="mean:Q")))


def test_save_renders_every_builder(tmp_path):
    for name, (build, make) in BUILDERS.items():
        png, svg = charts.save(build(make()), tmp_path / name, formats=("png", "svg"))
        assert png.stat().st_size > 1000 and "<svg" in svg.read_text(), name
