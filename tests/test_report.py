"""The static report: files, numbers, no network, and a real browser rendering it offline."""

from __future__ import annotations

import html as _html
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from simlab import (
    analytics,
    charts,
    evaluation_report,
    paper_figures,
    report,
    report_page,
    report_sections,
)
from simlab.compare import CompareConfig, compare
from simlab.db import migrate
from simlab.errors import InputError

from .conftest import run_simlab, synthetic_database
from .test_notebooks import ARMS, build_study

CHROMIUM = Path("/usr/bin/chromium")
EVALUATION_PREFIX = "evaluation_"
EVALUATION_SECTION = "What agents wrote, scored"
# The flags of shared/research/stack.md section 6 (playwright adds --headless and a profile).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]  # fmt: skip
_TAG_URL = re.compile(
    r"""<(script|link)\b[^>]*?\b(src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE
)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return build_study(tmp_path_factory.mktemp("report") / "simlab.db")


@pytest.fixture(scope="module")
def written(study):
    """The report with every default: latest comparison, ``reports/<id>/`` under the cwd."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(study.db.parent)
        patch.setenv("SIMLAB_DB", str(study.db))
        made = report.write_report()
    return made


def test_default_report_is_the_latest_comparison_in_reports(study, written):
    assert written.comparison_id == study.comparison_id
    assert written.out_dir == Path("reports") / study.comparison_id
    out = study.db.parent / written.out_dir
    assert (out / "report.html").is_file() and (out / "summary.csv").is_file()
    assert (out / "index.md").is_file()


def _absolute(study, path: Path) -> Path:
    return study.db.parent / path


def test_every_chart_is_written_as_png_svg_and_pdf(study, written):
    assert {
        "difference",
        "action_mix",
        "exposure_diversity",
        "polarization",
        "follow_growth",
    } <= set(written.charts)
    assert any(name.startswith("metric_") for name in written.charts)
    for png, svg, pdf in written.charts.values():
        assert _absolute(study, png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in _absolute(study, svg).read_text(encoding="utf-8")[:500]
        assert _absolute(study, pdf).read_bytes()[:5] == b"%PDF-"
    index = _absolute(study, written.index).read_text(encoding="utf-8")
    for paths in written.charts.values():
        for path in paths:
            assert path.relative_to(written.out_dir).as_posix() in index


def test_csv_equals_the_comparison_summary(study, written):
    csv = pd.read_csv(_absolute(study, written.summary_csv))
    con = analytics.connect(study.db)
    try:
        expected = analytics.comparison_summary(con, comparison_id=study.comparison_id)
    finally:
        con.close()
    assert list(csv.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(csv, expected, check_dtype=False, rtol=1e-12, atol=0)


def test_notebook_page_loads_scripts_and_styles_from_the_report_folder(study, written):
    html = _absolute(study, written.interactive).read_text(encoding="utf-8")
    assert report.CDN_PREFIX not in html and "cdn.jsdelivr.net" not in html
    urls = [m.group(3) for m in _TAG_URL.finditer(html)]
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    out = _absolute(study, written.out_dir)
    for url in urls:
        assert not re.match(r"(?i)^(https?:)?//", url), url
        assert (out / url).is_file(), f"{url} is not in the report folder"
    assert len(list((out / "assets").glob("*.js"))) > 100


def test_localize_refuses_a_page_that_still_loads_from_the_network():
    page = (
        f'<script src="{report.CDN_PREFIX}assets/a.js"></script><link href="https://x.org/f.css">'
    )
    with pytest.raises(RuntimeError, match='still loads from the network: href="https://x.org'):
        report.localize(page)
    assert (
        report.localize(f'<script src="{report.CDN_PREFIX}assets/a.js">')
        == '<script src="./assets/a.js">'
    )


def test_bad_comparison_and_empty_database_are_one_line_input_errors(study, tmp_path):
    with pytest.raises(InputError, match=r"^--comparison: no comparison 'nope' in the database$"):
        report.write_report(study.db, tmp_path / "out", comparison_id="nope")
    with pytest.raises(InputError, match=r"^--runs: no run 'nope'"):
        report.write_report(study.db, tmp_path / "out", run_ids=["nope"])
    empty = tmp_path / "empty.db"
    migrate(empty)
    with pytest.raises(
        InputError, match=r"^--comparison: the database has no comparison yet"
    ) as no:
        report.write_report(empty, tmp_path / "out")
    assert "\n" not in str(no.value)
    with pytest.raises(InputError, match="does not exist"):
        report.write_report(tmp_path / "missing.db")
    assert not (tmp_path / "out").exists()


def test_a_failing_notebook_cell_fails_the_export(study, tmp_path, monkeypatch):
    broken = tmp_path / "broken.py"
    broken.write_text(
        "import marimo\napp = marimo.App()\n\n\n@app.cell\ndef _():\n"
        "    raise ValueError('boom')\n    return\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(report, "notebook_path", lambda name: broken)
    chosen = analytics.Selection(comparison_id=study.comparison_id)
    export = report.start_export(str(study.db), chosen, tmp_path / "report.html")
    with pytest.raises(RuntimeError, match=r"marimo export html failed \(exit 1\)"):
        report.finish_export(export, tmp_path / "report.html")
    assert not (tmp_path / "assets").exists()


# --- a real browser, no network -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(study, written):
    """The report folder over ``python -m http.server`` on 127.0.0.1."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(_absolute(study, written.out_dir))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{origin}/index.md", timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "http.server did not start"
            time.sleep(0.1)
    yield origin
    server.terminate()
    server.wait(timeout=10)


def _need_chromium():
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but /usr/bin/chromium is missing (apt-get install -y chromium)")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")


def _rendered_chart_sizes(page, expected: int, timeout: float = 60) -> list[list[float]]:
    """Width and height of every drawn chart, once ``expected`` charts have their marks.

    marimo draws some charts inside shadow roots; playwright's CSS locators pierce them
    (``document.querySelectorAll`` would not).
    """
    marks = page.locator(".vega-embed canvas.marks, .vega-embed svg.marks")
    deadline = time.monotonic() + timeout
    while marks.count() < expected and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    return marks.evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )


def _notebook_charts(written) -> list[str]:
    """The report's charts that compare_feeds draws too (the evaluation section is the
    observatory notebook's, not compare_feeds')."""
    return [name for name in written.charts if not name.startswith(EVALUATION_PREFIX)]


def test_notebook_page_renders_offline_in_chromium(study, written, served, tmp_path):
    _need_chromium()
    from playwright.sync_api import sync_playwright

    seen, left = [], []

    def only_local(route):
        url = route.request.url
        seen.append(url)
        if url.startswith(served + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            left.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.route("**/*", only_local)
            page.on("websocket", lambda socket: seen.append(socket.url))
            blank = page.screenshot()
            page.goto(f"{served}/interactive.html", wait_until="networkidle", timeout=60_000)
            page.wait_for_selector(".vega-embed", timeout=60_000)
            sizes = _rendered_chart_sizes(page, len(_notebook_charts(written)))
            headline = page.get_by_text("Clearest differences to chronological")
            headline.wait_for(timeout=10_000)
            shot = page.screenshot(path=tmp_path / "report.png")
        finally:
            browser.close()
    assert not left, f"requests left 127.0.0.1: {left[:5]}"
    assert all(re.match(r"^(https?|wss?)://127\.0\.0\.1:\d+/|^(data|blob):", u) for u in seen), seen
    assert any(url.endswith(".js") for url in seen)
    assert len(sizes) >= len(_notebook_charts(written))
    assert all(width > 200 and height > 100 for width, height in sizes), sizes
    assert len(shot) > 5 * len(blank)


# --- report.html: one file, opened from file:// ------------------------------------------

MAX_REPORT_BYTES = 5_000_000


def test_single_file_report_loads_nothing_and_has_every_chart_inline(study, written):
    page = _absolute(study, written.html)
    html = page.read_text(encoding="utf-8")
    assert page.stat().st_size < MAX_REPORT_BYTES
    assert not re.search(r"""<script[^>]*\bsrc\s*=""", html, re.IGNORECASE)
    assert not re.search(r"""<script[^>]*type\s*=\s*["']?module""", html, re.IGNORECASE)
    assert not re.search(r"""<link\b""", html, re.IGNORECASE)
    specs = re.findall(r'<script type="application/json" id="spec-([^"]+)">(.*?)</script>', html)
    assert [name for name, _ in specs] == list(written.charts)
    for _, text in specs:
        spec = json.loads(text)
        assert spec["datasets"] or spec.get("data", {}).get("values")  # data inline, not a URL
        assert "url" not in json.dumps(spec.get("data", {}))
    con = analytics.connect(study.db)
    try:
        design = report_sections.design_caption(con, analytics.Selection(study.comparison_id))
    finally:
        con.close()
    assert html.count(_html.escape(design)) == 1 + len(written.charts)  # the page + each caption


def _drawn_charts(page, expected: int, timeout: float = 60) -> int:
    marks = page.locator("[data-figure] svg.marks, [data-figure] canvas.marks")
    deadline = time.monotonic() + timeout
    while marks.count() < expected and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    return marks.count()


def test_single_file_report_draws_every_chart_from_file_url_with_no_request(
    study, written, tmp_path
):
    _need_chromium()
    from playwright.sync_api import sync_playwright

    # A copy alone in a new folder: nothing beside the page can help it.
    alone = tmp_path / "mailed" / "report.html"
    alone.parent.mkdir()
    shutil.copy(_absolute(study, written.html), alone)
    url = alone.as_uri()
    seen, left, errors = [], [], []

    def only_the_page(route):
        request = route.request.url
        seen.append(request)
        if request == url or request.startswith("data:"):
            route.continue_()
        else:
            left.append(request)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.route("**/*", only_the_page)
            page.on("pageerror", lambda error: errors.append(str(error)))
            blank = page.screenshot()
            page.goto(url, wait_until="load", timeout=60_000)
            drawn = _drawn_charts(page, len(written.charts))
            figures = page.locator("figure").evaluate_all(
                "els => els.map(e => [e.id, !!e.querySelector('svg.marks .role-legend'),"
                " e.querySelector('svg.marks').textContent])"
            )
            failed = page.get_by_text("This chart could not be drawn").count()
            shot = page.screenshot(full_page=True, path=tmp_path / "report.png")
        finally:
            browser.close()
    assert not left, f"requests left the page: {left[:5]}"
    assert seen == [url]
    assert not errors and failed == 0, errors
    assert drawn == len(written.charts)
    arms = list(dict.fromkeys(pd.read_csv(_absolute(study, written.summary_csv))["arm"]))
    over_turns = [f for f in figures if f[0].startswith("figure-metric_")]
    assert over_turns and len(over_turns) == sum(n.startswith("metric_") for n in written.charts)
    for name, has_legend, text in over_turns:  # a legend naming every arm, or a note
        assert (has_legend and "Feed" in text and all(arm in text for arm in arms)) or (
            not has_legend and text.startswith("No ")
        ), (name, text[:200])
    assert sum(has_legend for _, has_legend, _ in over_turns) >= 1
    assert len(shot) > 5 * len(blank)


# --- simlab figures: paper-sized files --------------------------------------------------

FIGURE_SIZE = ("--width", "640", "--height", "400", "--font-size", "10")


@pytest.fixture(scope="module")
def svg_figures(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures") / "svg"
    result = run_simlab(
        "figures", "--db", str(study.db), "--format", "svg", "--out", str(out), *FIGURE_SIZE
    )
    assert result.returncode == 0, result.stderr
    return out


def _arms(study) -> list[str]:
    con = analytics.connect(study.db)
    try:
        return list(analytics.runs(con, comparison_id=study.comparison_id)["arm"].unique())
    finally:
        con.close()


def test_figures_writes_one_svg_per_report_chart_at_the_size_with_legends(
    study, written, svg_figures
):
    files = sorted(path.stem for path in svg_figures.glob("*.svg"))
    assert files == sorted(report.safe_name(name) for name in written.charts)
    captions = (svg_figures / paper_figures.CAPTIONS).read_text(encoding="utf-8")
    assert all(f"{name}.svg: " in captions for name in files) and "Design: " in captions
    arms, colors = _arms(study), charts.feed_colors()
    for path in svg_figures.glob("*.svg"):
        svg = path.read_text(encoding="utf-8")
        size = re.search(r'<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"', svg)
        assert (float(size.group(1)), float(size.group(2))) == (640, 400), path.name
        texts = [_html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
        if path.stem.startswith("metric_") and not texts[-1].startswith("No "):
            assert "Feed" in texts and set(arms) <= set(texts), path.name
            for arm in arms:  # the registry palette: a feed has its colour in every figure
                assert f'"{colors[arm]}"' in svg, (path.name, arm)
        assert 'font-size="10px"' in svg and 'font-size="13px"' in svg  # labels, title


def test_figures_in_process_png_and_pdf_respect_the_size(study, tmp_path):
    options = paper_figures.check_options("png", 700, 360, 9, 2)
    pngs = paper_figures.write_figures(study.db, tmp_path / "png", options)
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (1400, 720), png.name  # 2 pixels per px
    options = paper_figures.check_options("pdf", 700, 360, 9, 2)
    pdfs = paper_figures.write_figures(
        study.db, tmp_path / "pdf", options, run_ids=list(study.run_ids.values())
    )
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert data[:5] == b"%PDF-" and b"MediaBox [0 0 700 360]" in data, pdf.name


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--format", "gif"), "--format: 'gif' is not one of png, svg, pdf"),
        (("--width", "abc"), "--width: expected a number, got 'abc'"),
        (("--width", "50"), "--width: must be between 200 and 4000, got 50"),
        (("--height", "12.5"), "--height: expected a whole number of px"),
        (("--font-size", "nan"), "--font-size: expected a finite number"),
        (("--scale", "100"), "--scale: must be between 0.5 and 8"),
        (("--width", "200", "--height", "100"), "is too small for this chart"),
        (("--comparison", "nope"), "no comparison 'nope'"),
    ],
)
def test_bad_figure_flags_are_one_line_and_write_nothing(study, tmp_path, flags, message):
    out = tmp_path / "figures"
    result = run_simlab("figures", "--db", str(study.db), "--out", str(out), *flags)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not out.exists()


# --- the evaluation section: shown when the selection was evaluated ---------------------


def _spec(html: str, name: str) -> dict:
    found = re.search(rf'<script type="application/json" id="spec-{name}">(.*?)</script>', html)
    assert found, name
    return json.loads(found.group(1))


def _rows(spec: dict) -> list[dict]:
    (rows,) = spec["datasets"].values()
    return rows


def test_report_of_an_evaluated_comparison_has_the_evaluation_section(study, written):
    html = _absolute(study, written.html).read_text(encoding="utf-8")
    cid = study.comparison_id
    con = analytics.connect(study.db)
    try:
        keys = evaluation_report.summary_keys(con)
        offensive = {"evaluator": "offensive", "dimension": "offensive", "comparison_id": cid}
        trends = analytics.dimension_trends(con, **offensive)
        board = analytics.leaderboard(con, **offensive)
        top = analytics.top_items(con, **offensive, limit=evaluation_report.TOP_ROWS)
    finally:
        con.close()
    assert keys == ["run.evaluation.offensive.offensive", "run.evaluation.sentiment.compound"]
    assert html.count(f"{EVALUATION_SECTION}</h2>") == 1
    names = [name for name in written.charts if name.startswith(EVALUATION_PREFIX)]
    assert names == [
        f"evaluation_{key.removeprefix('run.evaluation.').replace('.', '_')}_{kind}"
        for key in keys
        for kind in ("trend", "by_feed", "leaderboard")
    ]
    for name in names:  # every evaluation chart is a figure with its files
        assert f'<figure id="figure-{name}">' in html
        assert [path.suffix for path in written.charts[name]] == [".png", ".svg", ".pdf"]
        assert all(_absolute(study, path).stat().st_size > 0 for path in written.charts[name])
    # The trend: per feed and turn, the analytics means with their CIs, in feed colours.
    trend = _spec(html, "evaluation_offensive_offensive_trend")
    drawn = pd.DataFrame(_rows(trend)).set_index(["arm", "turn"]).sort_index()
    expected = trends.set_index(["arm", "turn"]).sort_index()
    assert drawn.index.equals(expected.index) and set(drawn.index.get_level_values(0)) == set(ARMS)
    for column in ("mean", "ci_low", "ci_high"):
        assert drawn[column].to_numpy() == pytest.approx(expected[column].to_numpy(), nan_ok=True)
    scale = trend["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        arm: charts.feed_colors()[arm] for arm in ARMS
    }
    # The leaderboard: the top agents in rank order, flagged ones marked.
    bars = _rows(_spec(html, "evaluation_offensive_offensive_leaderboard"))
    ranked = board.nsmallest(evaluation_report.TOP_AGENTS, "rank")
    assert [row["agent_handle"] for row in bars] == ranked["agent_handle"].tolist()
    assert [row["flagged"] for row in bars] == ranked["flagged"].tolist()
    # The tables: the top agents and the highest-scoring texts with who wrote them where.
    section = _html.unescape(html.split(f"{EVALUATION_SECTION}</h2>")[1])
    assert board["agent_handle"].iloc[0] in section
    best = top.iloc[0]
    row = section[section.index(best["text"][: evaluation_report.TEXT_CHARS]) :]
    row = row.split("</tr>")[0]
    assert best["agent_handle"] in row and best["arm"] in row


def test_figures_of_an_evaluated_comparison_include_the_evaluation_charts(study, svg_figures):
    arms, colors = _arms(study), charts.feed_colors()
    trends = sorted(svg_figures.glob(f"{EVALUATION_PREFIX}*_trend.svg"))
    assert [path.stem for path in trends] == [
        "evaluation_offensive_offensive_trend", "evaluation_sentiment_compound_trend"
    ]  # fmt: skip
    for path in trends:
        svg = path.read_text(encoding="utf-8")
        texts = [_html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
        assert "Feed" in texts and set(arms) <= set(texts), path.name
        assert all(f'"{colors[arm]}"' in svg for arm in arms), path.name
        assert any(text.startswith("Mean offensive per text") or "compound" in text
                   for text in texts)  # fmt: skip
    captions = (svg_figures / paper_figures.CAPTIONS).read_text(encoding="utf-8")
    assert "evaluation_offensive_offensive_leaderboard.svg: The 10 of" in captions


@pytest.fixture(scope="module")
def unevaluated(tmp_path_factory):
    """A small comparison that nobody ran `simlab evaluate` on."""
    path = tmp_path_factory.mktemp("unevaluated") / "simlab.db"
    synthetic_database(path, agents=20, posts=80, seed=2)
    result = compare(
        CompareConfig(feeds=ARMS, replicates=1, seed=2, run={"turns": 2}), str(path), jobs=1
    )
    assert not result.failures
    return path, result.comparison_id


def test_report_without_evaluations_has_no_evaluation_section(unevaluated):
    path, comparison_id = unevaluated
    con = analytics.connect(path)
    try:
        chosen = analytics.Selection(comparison_id)
        design, sections = report_sections.build_sections(con, chosen)
        assert evaluation_report.evaluations_section(con, chosen, design) is None
    finally:
        con.close()
    assert sections and EVALUATION_SECTION not in [section.title for section in sections]
    names = list(report_sections.all_figures(sections))
    assert names and not any(name.startswith(EVALUATION_PREFIX) for name in names)
    specs = {
        name: figure.chart.to_dict()
        for name, figure in report_sections.all_figures(sections).items()
    }
    page = report_page.render_page("t", design, sections, specs)
    assert EVALUATION_SECTION not in page and "evaluation_" not in page
