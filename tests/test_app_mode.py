"""Every notebook served as an app (``simlab notebook NAME``) works in headless Chromium.

Each notebook is opened through :func:`simlab.notebook_launch.launch` (``marimo
run``, code hidden, token in the URL) on a small database; the test waits until
no cell runs, changes one widget the way a user does, sees the output it drives
change, and takes a screenshot that is not blank. The system Chromium is driven
by Playwright (no browser download).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest

from simlab import analytics, notebook_launch
from simlab.analytics import threads
from simlab.compare import CompareConfig, compare

from .test_notebooks import NOTEBOOKS, Study, build_study
from .test_report import CHROMIUM_FLAGS, _need_chromium

NOTEBOOK_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Study:
    """The notebook tests' study, plus a second comparison for the compare notebook's picker."""
    study = build_study(tmp_path_factory.mktemp("app") / "simlab.db")
    config = CompareConfig(feeds=["random", "bridging"], replicates=1, seed=5, run={"turns": 2})
    assert not compare(config, str(study.db), jobs=1).failures
    return study


@pytest.fixture(scope="module")
def browser():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _settled(page, timeout_ms: int = NOTEBOOK_TIMEOUT_MS) -> None:
    """Wait until marimo's app shows its cells and none runs (its loading indicator is gone)."""
    page.wait_for_selector("[data-cell-name]", state="attached", timeout=timeout_ms)
    page.wait_for_timeout(300)  # a cell queued by the last change shows the indicator by now
    page.wait_for_selector("[data-testid=loading-indicator]", state="detached", timeout=timeout_ms)


def _chart(page, index: int = 0) -> bytes:
    """A screenshot of the ``index``-th drawn chart (what a user sees of it)."""
    chart = page.locator(".vega-embed").nth(index)
    chart.wait_for(timeout=NOTEBOOK_TIMEOUT_MS)
    return chart.screenshot()


def _changed_chart(page, before: bytes, index: int = 0) -> bytes:
    """The ``index``-th chart once it differs from ``before`` (or as it is after the timeout).

    A widget change reaches the kernel, re-runs the cells and redraws the chart
    asynchronously; on a busy machine that takes seconds.
    """
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT_MS / 1000
    while True:
        _settled(page)
        after = _chart(page, index)
        if after != before or time.monotonic() > deadline:
            return after
        page.wait_for_timeout(500)


def _colours(page, png: bytes) -> int:
    """How many distinct colours a PNG has (decoded by the browser, sampled on a grid)."""
    data = base64.b64encode(png).decode()
    return page.evaluate(
        """async (data) => {
            const image = new Image();
            image.src = "data:image/png;base64," + data;
            await image.decode();
            const canvas = document.createElement("canvas");
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            const pixels = context.getImageData(0, 0, image.width, image.height).data;
            const seen = new Set();
            for (let i = 0; i < pixels.length; i += 4 * 97) {
                seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
            }
            return seen.size;
        }""",
        data,
    )


def _select_other(page, label: str) -> None:
    """Pick the next option of the native dropdown labelled ``label``."""
    select = page.locator("marimo-dropdown", has_text=label).locator("select")
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.options[s.selectedIndex].text")
    other = next(option for option in options if option != current and option.strip() != "--")
    select.select_option(label=other)


def _compare_feeds(page) -> tuple[bytes, bytes]:
    before = _chart(page)  # the difference chart
    _select_other(page, "Comparison")
    return before, _changed_chart(page, before)


def _run_with_turns_to_pick(db) -> str:
    """A run whose default agent (the most active) was served in more than one turn."""
    with analytics.connect(db) as con:
        for run_id in sorted(analytics.runs(con)["run_id"]):
            agent = threads.most_active_agent(analytics.agent_activity(con, run_id=run_id))
            if len(analytics.served_turns(con, run_id=run_id, agent_handle=agent)) > 1:
                return run_id
    raise AssertionError("no run has an agent served in two turns")


def _all_charts(page) -> bytes:
    """Screenshots of every drawn chart, end to end."""
    charts = page.locator(".vega-embed")
    charts.first.wait_for(timeout=NOTEBOOK_TIMEOUT_MS)
    return b"".join(charts.nth(i).screenshot() for i in range(charts.count()))


def _explore_run(page) -> tuple[bytes, bytes]:
    before = _all_charts(page)  # the turn drives the feed, its explanations and the network
    slider = page.locator("[role=slider]").first
    start = slider.get_attribute("aria-valuenow")
    key = "End" if start == slider.get_attribute("aria-valuemin") else "Home"  # another turn
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT_MS / 1000
    while slider.get_attribute("aria-valuenow") == start:  # a busy page can drop a key press
        assert time.monotonic() < deadline, "the turn slider never moved"
        slider.focus()
        slider.press(key)
        page.wait_for_timeout(500)
    while True:
        _settled(page)
        after = _all_charts(page)
        if after != before or time.monotonic() > deadline:
            return before, after
        page.wait_for_timeout(500)


def _live_experiment(page) -> tuple[bytes, bytes]:
    before = _chart(page)  # the leaning distribution, before turn 0
    page.get_by_role("button", name="Step").click()
    page.get_by_text("turn 1 of 10 played").wait_for(timeout=NOTEBOOK_TIMEOUT_MS)
    stepped = _changed_chart(page, before)
    page.get_by_role("button", name="Start").click()  # then a turn per tick, to the end
    page.get_by_text("turn 10 of 10 played, completed").wait_for(timeout=NOTEBOOK_TIMEOUT_MS)
    page.get_by_text("explore it:", exact=False).wait_for(timeout=NOTEBOOK_TIMEOUT_MS)
    assert _changed_chart(page, stepped) != stepped
    return before, stepped


def _new_experiment(page) -> tuple[bytes, bytes]:
    said = page.get_by_text("Will run", exact=False).first
    before = said.screenshot()  # no chart before a comparison ran: the description changes
    turns = page.locator("input[aria-label*='>Turns<']")  # marimo labels inputs with HTML
    turns.fill("7")
    turns.press("Enter")
    page.get_by_text("replicates, 7 turns", exact=False).wait_for(timeout=NOTEBOOK_TIMEOUT_MS)
    return before, page.get_by_text("Will run", exact=False).first.screenshot()


def _observatory(page) -> tuple[bytes, bytes]:
    before = _chart(page)  # the dimension's trend
    _select_other(page, "Evaluator")  # and with it the dimension shown
    return before, _changed_chart(page, before)


CHANGES: dict[str, Callable] = {
    "compare_feeds": _compare_feeds,
    "explore_run": _explore_run,
    "live_experiment": _live_experiment,
    "new_experiment": _new_experiment,
    "observatory": _observatory,
}


def test_every_notebook_has_a_widget_change():
    assert sorted(CHANGES) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_notebook_app_renders_and_reacts_in_chromium(name, study, browser, tmp_path):
    opened_on = {
        "observatory": {"comparison": study.comparison_id},
        "explore_run": {"runs": [_run_with_turns_to_pick(study.db)]},
    }.get(name, {})
    served = notebook_launch.launch(name, study.db, headless=True, **opened_on)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        deadline = time.monotonic() + 60
        while True:  # the server takes a few seconds to listen
            try:
                page.goto(served.url, timeout=10_000)
                break
            except Exception:  # noqa: BLE001  (connection refused until marimo listens)
                assert served.process.poll() is None, "marimo run exited"
                assert time.monotonic() < deadline, "marimo run did not listen in 60 s"
                time.sleep(0.5)
        assert "auth/login" not in page.content()  # the printed URL carries its token
        _settled(page)
        assert page.locator(".cm-editor").count() == 0  # app view: no code editors
        before, after = CHANGES[name](page)
        assert before != after, f"{name}: the output did not change"
        shot = page.screenshot(path=tmp_path / f"{name}.png")
        assert _colours(page, shot) > 20  # text, charts: not a blank page
        page.close()
    finally:
        served.process.terminate()
        served.process.wait(timeout=20)
