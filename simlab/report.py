"""A report of a comparison: one self-contained page, figures, a CSV and the notebook as HTML.

``report.html`` is ONE file (:mod:`simlab.report_page`): the report's sections
(:data:`simlab.report_sections.SECTIONS`) with every chart inlined as a Vega-Lite
spec with its data and the JavaScript that draws it, so it opens by double-click
from ``file://``, needs no network and can be e-mailed.

``interactive.html`` is the compare_feeds notebook: ``write_report`` executes ``notebooks/compare_feeds.py`` non-interactively
through ``marimo export html``, opened on the database and selection the way
``simlab notebook`` opens it (:class:`simlab.notebook_launch.NotebookInputs`).
That HTML loads marimo's frontend from a CDN, so the report ships the same
files from the installed marimo package
(``marimo/_static``) next to it and points the page at them: nothing it loads
leaves the report folder. Browsers refuse that page's JavaScript modules from
``file://``: serve the folder (``python -m http.server -d reports/<id> --bind
127.0.0.1``) and open ``http://127.0.0.1:8000/interactive.html``. Next to the
pages go every chart as PNG, SVG and PDF, the comparison summary as CSV, and
``index.md`` listing the files::

    reports/<comparison_id>/
        report.html   interactive.html   assets/   charts/<name>.png|svg|pdf
        summary.csv   index.md

The report is written into a scratch folder next to its target and moved into
place when complete, so a failed report leaves nothing behind. It replaces an
earlier simlab report in the same folder, refuses a non-empty folder that is not
one (unless ``force``), and ids become folder names only through
:func:`safe_name`. A figure with nothing to draw is a note
(:func:`simlab.figures.note`), so thin selections still give a report.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import marimo

from simlab import analytics, charts, report_page, report_sections
from simlab.analytics import Selection
from simlab.errors import InputError
from simlab.notebook_launch import NotebookInputs, database_file, notebook_path

NOTEBOOK = "compare_feeds"
HTML_NAME = "report.html"
INTERACTIVE_NAME = "interactive.html"
EXPORT_TIMEOUT_S = 600
# Where `marimo export html` points the page's scripts, styles and icons.
CDN_PREFIX = f"https://cdn.jsdelivr.net/npm/@marimo-team/frontend@{marimo.__version__}/dist/"
# A src/href attribute that would load something from the network.
_REMOTE_ATTRIBUTE = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@dataclass(frozen=True)
class Report:
    """The files of one report (all inside ``out_dir``)."""

    out_dir: Path
    html: Path  # the single self-contained page
    interactive: Path  # the notebook's page, served with assets/
    assets: Path
    charts: dict[str, tuple[Path, ...]]  # chart name -> (png, svg, pdf)
    summary_csv: Path
    index: Path
    comparison_id: str | None
    run_ids: tuple[str, ...]


def write_report(
    db: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    comparison_id: str | None = None,
    run_ids: list[str] | tuple[str, ...] | None = None,
    *,
    force: bool = False,
    sections: Sequence[report_sections.SectionBuilder] | None = None,
    say: Callable[[str], None] | None = None,
) -> Report:
    """Write the static report of a comparison (default: the latest) or of some runs.

    Args:
        db: the database; default ``$SIMLAB_DB``, else ``data/simlab.db``.
        out_dir: the report folder; default ``reports/<comparison_id>/`` (or
            ``reports/runs-<digest>/`` for ``run_ids``).
        comparison_id: the comparison; default the latest in the database.
        run_ids: report these runs instead (arms are their feeds; not paired).
        force: write into ``out_dir`` even if it is a non-empty folder that holds
            no simlab report (its other files are kept).
        sections: the section builders (default :data:`simlab.report_sections.SECTIONS`).
        say: called with one progress line per finished stage (with the seconds so far).

    Raises:
        InputError: the database is missing, the comparison or a run id is
            unknown, the database has no comparison, nothing in the selection
            has a completed turn, or ``out_dir`` is taken (one line; nothing written).
        RuntimeError: the notebook failed while exporting.
    """
    database = database_file(db)
    say = say or (lambda line: None)
    clock = time.monotonic()

    def stage_done(what: str) -> None:
        say(f"report: {what} ({time.monotonic() - clock:.1f} s)")

    con = analytics.connect(database)
    try:
        chosen = analytics.initial_selection(
            con, run_ids=tuple(run_ids or ()), comparison_id=comparison_id
        )
        if not analytics.completed_turns(con, **chosen.kwargs):
            raise InputError(f"report: {_plain(chosen)} has no completed turn; nothing to report")
        out = Path(out_dir) if out_dir is not None else Path("reports") / folder_name(chosen)
        check_out_dir(out, force)
        design, sections = report_sections.build_sections(con, chosen, sections)
        summary = analytics.summary(con, **chosen.kwargs)
    finally:
        con.close()
    stage_done(f"read {_plain(chosen)} and built {len(sections)} sections")
    figures = report_sections.all_figures(sections)
    with _staged(out) as stage:
        export = start_export(database, chosen, stage / INTERACTIVE_NAME)  # runs meanwhile
        try:
            specs = {name: figure.chart.to_dict() for name, figure in figures.items()}
            page = report_page.render_page(
                f"simlab report: {chosen.title.replace('`', '')}", design, sections, specs
            )
            (stage / HTML_NAME).write_text(page, encoding="utf-8")
            stage_done(
                f"wrote {HTML_NAME} ({len(page.encode()) / 1e6:.1f} MB, {len(specs)} charts)"
            )
            saved = {
                name: charts.save(specs[name], stage / "charts" / safe_name(name))
                for name in figures
            }
            stage_done(f"wrote {len(saved)} charts as PNG, SVG and PDF")
        except BaseException:
            export.stop()
            raise
        finish_export(export, stage / INTERACTIVE_NAME)
        stage_done(f"wrote {INTERACTIVE_NAME} (the notebook, served with assets/)")
        summary.to_csv(stage / "summary.csv", index=False)
        report = Report(
            out_dir=out, html=out / HTML_NAME, interactive=out / INTERACTIVE_NAME,
            assets=out / "assets",
            charts={
                name: tuple(out / path.relative_to(stage) for path in files)
                for name, files in saved.items()
            },
            summary_csv=out / "summary.csv", index=out / "index.md",
            comparison_id=chosen.comparison_id, run_ids=chosen.run_ids or (),
        )  # fmt: skip
        (stage / "index.md").write_text(_index(report, chosen), encoding="utf-8")
    return report


def _plain(chosen: Selection) -> str:
    if chosen.comparison_id is not None:
        return f"comparison {chosen.comparison_id!r}"
    return f"runs {', '.join(chosen.run_ids or ())}"


def folder_name(chosen: Selection) -> str:
    """The default folder name of a selection: its safe comparison id, or runs-<digest>."""
    if chosen.comparison_id is not None:
        return safe_name(chosen.comparison_id)
    digest = hashlib.sha1(",".join(chosen.run_ids or ()).encode()).hexdigest()[:10]
    return f"runs-{digest}"


def safe_name(text: str) -> str:
    """``text`` as one path component: letters, digits, ``_`` and ``-`` only.

    Anything else (``/``, ``..``, spaces) is replaced by ``_``; a name that had to
    change gets a digest of the original, so two ids never share a folder.
    """
    clean = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:64]
    if clean == text and text:
        return text
    return f"{clean or 'id'}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def is_report(folder: Path) -> bool:
    """Whether ``folder`` holds a report simlab wrote (its ``index.md`` says so)."""
    index = folder / "index.md"
    if not index.is_file():
        return False
    with index.open(encoding="utf-8", errors="replace") as lines:
        return lines.readline().startswith("# simlab report")


def check_out_dir(out: Path, force: bool = False) -> None:
    """Refuse a report folder that would overwrite someone's files.

    Raises:
        InputError: ``out`` is a file, or a non-empty folder that holds no simlab
            report and ``force`` is not set.
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not is_report(out) and not force:
        raise InputError(
            f"--out: {out} is not empty and holds no simlab report; "
            "choose another folder or pass --force to write into it"
        )


@contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A scratch folder beside ``out`` that becomes ``out`` if the ``with`` body succeeds.

    An earlier report (or an empty folder) at ``out`` is replaced whole; a folder
    with other files (``force``) keeps them and gets the report's files copied in.
    On failure the scratch folder is removed and ``out`` is untouched.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    stage.chmod(0o755)  # mkdtemp makes it private; a report is for sharing
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if not out.exists():
        stage.rename(out)
    elif is_report(out) or not any(out.iterdir()):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        out.rename(old / out.name)
        stage.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        shutil.copytree(stage, out, dirs_exist_ok=True)
        shutil.rmtree(stage, ignore_errors=True)


@dataclass
class Export:
    """A running ``marimo export html`` and the file that collects its output."""

    process: subprocess.Popen
    log: IO[str]
    workdir: tempfile.TemporaryDirectory

    def stop(self) -> None:
        """Kill the export (a chart failed; nobody will use the page)."""
        self.process.kill()
        self.process.wait()
        self.close()

    def close(self) -> None:
        """Remove the log and the scratch folder."""
        self.log.close()
        self.workdir.cleanup()


def start_export(database: str, chosen: Selection, target: Path) -> Export:
    """Start ``marimo export html`` of the compare_feeds notebook on ``chosen`` into ``target``.

    The notebook gets ``database`` and ``chosen`` once, as its command line after
    ``--`` (:meth:`~simlab.notebook_launch.NotebookInputs.argv`).
    """
    # marimo writes a session cache (__marimo__/) next to the notebook: export a scratch copy,
    # so neither the repository nor an installed package gets one.
    workdir = tempfile.TemporaryDirectory(prefix="simlab-report-")
    notebook = shutil.copy(notebook_path(NOTEBOOK), workdir.name)
    opened_on = NotebookInputs(database, chosen.comparison_id, chosen.run_ids or ())
    command = [
        sys.executable, "-m", "marimo", "export", "html", str(notebook),
        "-o", str(Path(target).absolute()), "-f", "--no-include-code", "--", *opened_on.argv(),
    ]  # fmt: skip
    log = tempfile.TemporaryFile(mode="w+")  # not a pipe: nobody reads it while charts render
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    return Export(process, log, workdir)


def finish_export(export: Export, target: Path) -> Path:
    """Wait for the export, then copy marimo's frontend next to the page and point it there.

    Raises:
        RuntimeError: the export failed (a cell raised) or ran too long, or the page
            still loads something from the network after the rewrite.
    """
    try:
        code = export.process.wait(timeout=EXPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        export.stop()
        raise RuntimeError(f"report: marimo export html ran over {EXPORT_TIMEOUT_S} s") from None
    export.log.seek(0)
    output = export.log.read()
    export.close()
    if code != 0 or not target.is_file():
        lines = output.strip().splitlines() or ["no output"]
        raise RuntimeError(f"report: marimo export html failed (exit {code}): {lines[-1]}")
    copy_frontend(target.parent)
    target.write_text(localize(target.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def copy_frontend(folder: Path) -> Path:
    """Copy marimo's frontend (``assets/`` and the icons) from the installed package into ``folder``."""
    static = Path(marimo.__file__).parent / "_static"
    shutil.copytree(static / "assets", folder / "assets", dirs_exist_ok=True)
    for item in static.iterdir():
        if item.is_file() and item.suffix in (".ico", ".png", ".json", ".webmanifest"):
            shutil.copy2(item, folder / item.name)
    return folder / "assets"


def localize(html: str) -> str:
    """Point the exported page at the copied frontend instead of the CDN.

    Raises:
        RuntimeError: a ``src``/``href`` still points to the network (a marimo
            version whose page loads more than its CDN bundle).
    """
    html = html.replace(CDN_PREFIX, "./")
    remote = _REMOTE_ATTRIBUTE.search(html)
    if remote is not None:
        context = html[remote.start() : remote.start() + 80].splitlines()[0]
        raise RuntimeError(f"report: the page still loads from the network: {context}")
    return html


def _index(report: Report, chosen: Selection) -> str:
    def rel(path: Path) -> str:
        return path.relative_to(report.out_dir).as_posix()

    lines = [
        f"# simlab report: {chosen.title}",
        "",
        f"- [{rel(report.html)}]({rel(report.html)}): the report as one self-contained file "
        "(charts with their data inlined); open it by double-click (file://), no network needed",
        f"- [{rel(report.interactive)}]({rel(report.interactive)}): the compare_feeds notebook, "
        "rendered. Serve this folder and open it in a browser (browsers block its scripts from "
        "file://):",
        f"  `python -m http.server --bind 127.0.0.1 -d {report.out_dir}` then "
        f"http://127.0.0.1:8000/{rel(report.interactive)}",
        f"- [{rel(report.summary_csv)}]({rel(report.summary_csv)}): per arm and metric, the mean "
        "with its 95% CI and the difference to the first arm with its 95% CI",
        f"- {rel(report.assets)}/: marimo's frontend, so the notebook page needs no network",
        "- charts (PNG, SVG and PDF):",
    ]
    lines += [
        f"  - {name}: " + ", ".join(f"[{rel(path)}]({rel(path)})" for path in paths)
        for name, paths in report.charts.items()
    ]
    return "\n".join(lines) + "\n"
