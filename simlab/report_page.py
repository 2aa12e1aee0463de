"""``report.html``: a report as ONE self-contained HTML file that opens from ``file://``.

Each figure is its Vega-Lite spec with the data inline, drawn by Vega, Vega-Lite
and vega-embed from one classic ``<script>`` (vl-convert's offline bundle,
:func:`vl_convert.javascript_bundle`): no module script, no file next to the
page, no request to the network (vega-embed's action menu, which links to the
online editor, is off). Text and tables are static HTML, so the page reads
even with JavaScript off; every figure has its caption under it.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import markdown
import vl_convert

from simlab.charts.files import vl_version
from simlab.report_sections import Section

STYLE = """
body { font-family: Helvetica, Arial, 'DejaVu Sans', sans-serif; margin: 2em auto;
       max-width: 1000px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; }
figure { margin: 1.5em 0; } figcaption { font-size: 0.9em; color: #444; max-width: 900px; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
th { background: #f4f4f4; } .design { background: #f7f7f7; padding: 0.6em 1em; }
.vega-embed { max-width: 100%; overflow-x: auto; }
"""
RENDER = """
for (const holder of document.querySelectorAll("[data-figure]")) {
  const spec = JSON.parse(document.getElementById(holder.dataset.figure).textContent);
  vegaEmbed(holder, spec, {actions: false, renderer: "svg"})
    .catch(error => { holder.textContent = "This chart could not be drawn: " + error; });
}
"""


def bundle_cache() -> Path:
    """Where the bundle is kept between reports: ``$XDG_CACHE_HOME/simlab`` (``~/.cache/simlab``)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    name = f"vl-convert-{version('vl-convert-python')}-vega-lite-{vl_version()}.js"
    return Path(root) / "simlab" / name


@lru_cache(maxsize=1)
def javascript() -> str:
    """Vega, Vega-Lite and vega-embed as one classic script (they become window globals).

    vl-convert bundles them on each call (seconds), so the bundle is kept in
    :func:`bundle_cache`, named by the vl-convert and Vega-Lite versions.
    """
    cache = bundle_cache()
    try:
        return cache.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = _script_safe(vl_convert.javascript_bundle(vl_version=vl_version()))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        scratch = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        scratch.write_text(bundle, encoding="utf-8")
        os.replace(scratch, cache)  # whole or not at all, for a report running meanwhile
    except OSError:
        pass  # a read-only home: bundle each time
    return bundle


def _script_safe(text: str) -> str:
    """``text`` that cannot end the ``<script>`` element it sits in (``</script`` escaped)."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def _json_in_html(spec: dict) -> str:
    """``spec`` as JSON with every ``<`` escaped, so no text in it can close or open a tag."""
    return json.dumps(spec, allow_nan=False).replace("<", "\\u003c")


def render_page(
    title: str, design: str, sections: Sequence[Section], specs: dict[str, dict]
) -> str:
    """The whole page: title, design sentence, then each section's text, tables and figures.

    Args:
        title: the page title (plain text).
        design: the design sentence (:func:`simlab.report_sections.design_caption`).
        sections: the report's sections, in order.
        specs: each figure's Vega-Lite spec by figure name (inline data).
    """
    body = [f"<h1>{html.escape(title)}</h1>", f'<p class="design">{html.escape(design)}</p>']
    for number, section in enumerate(sections, start=1):
        body.append(f"<h2>{number}. {html.escape(section.title)}</h2>")
        if section.text:
            body.append(markdown.markdown(section.text))
        body += [table.to_html(index=False, na_rep="", border=0) for table in section.tables]
        for name, figure in section.figures.items():
            element = f"spec-{name}"
            body.append(
                f'<figure id="figure-{html.escape(name)}">'
                f'<div data-figure="{html.escape(element)}"></div>'
                f"<figcaption><b>{html.escape(name)}.</b> {html.escape(figure.caption)}</figcaption>"
                f'<script type="application/json" id="{html.escape(element)}">'
                f"{_json_in_html(specs[name])}</script></figure>"
            )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>",
            f"<script>{javascript()}</script>",
            "</head><body>",
            *body,
            f"<script>{RENDER}</script>",
            "</body></html>",
        ]
    )
