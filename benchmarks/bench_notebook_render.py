"""First render of every notebook in app mode (``simlab notebook NAME``) in headless Chromium.

Usage: uv run python benchmarks/bench_notebook_render.py [--db data/demo.db] [--repeat 1]

For each notebook: the seconds from starting ``marimo run`` until the server
answers (``server up``), and from opening the printed URL until the first chart
is drawn (``first chart``; marimo's app view shows the outputs once the
cells ran) and until no cell runs any more (``settled``; the target is 10 s).
A notebook with nothing to draw (observatory before ``simlab evaluate``)
settles when its cells stop. Uses the system Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import time
import urllib.request

from common import print_table

from simlab import notebook_launch

CHROMIUM = "/usr/bin/chromium"


def _wait_up(served) -> None:
    while True:
        try:
            urllib.request.urlopen(served.url.split("?")[0] + "health", timeout=2).close()
            return
        except OSError:
            if served.process.poll() is not None:
                raise SystemExit("marimo run exited") from None
            time.sleep(0.1)


def render_times(browser, name: str, db: str, has_charts: bool) -> tuple[float, float, float]:
    """(server up, first chart, settled) seconds for notebook ``name``."""
    start = time.perf_counter()
    served = notebook_launch.launch(name, db, headless=True)
    try:
        _wait_up(served)
        up = time.perf_counter() - start
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        opened = time.perf_counter()
        page.goto(served.url)
        page.wait_for_selector("[data-cell-name]", state="attached", timeout=120_000)
        first, seen_running, idle_since = float("nan"), False, None
        while True:  # until no cell runs and a chart is drawn (or none came for 3 s)
            now = time.perf_counter() - opened
            running = page.locator("[data-testid=loading-indicator]").count() > 0
            seen_running |= running
            drawn = page.locator(".vega-embed").count() > 0
            if first != first and drawn:
                first = now
            idle_since = None if running else (now if idle_since is None else idle_since)
            idle = idle_since is not None and (seen_running or now > 5)
            if idle and (drawn or not has_charts or now - idle_since > 3):
                settled = idle_since if not drawn else now
                break
            page.wait_for_timeout(50)
        page.close()
        return up, first, settled
    finally:
        served.process.terminate()
        served.process.wait(timeout=20)


def main() -> None:
    """Open each notebook and print the table."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="data/demo.db")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name in notebook_launch.names():
            for _ in range(args.repeat):
                has_charts = name != "new_experiment"  # it draws nothing before a run
                up, first, settled = render_times(browser, name, args.db, has_charts)
                rows.append(
                    (
                        name,
                        f"up {up:.1f} s, first chart {first:.1f} s, settled {settled:.1f} s",
                        "settled < 10 s",
                    )
                )
        browser.close()
    print_table(f"First render in app mode ({args.db})", rows)


if __name__ == "__main__":
    main()
