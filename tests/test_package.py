"""The package's front door: lazy subpackages, layering, one analytics calling convention, docs that run."""

from __future__ import annotations

import doctest
import inspect
import re
import subprocess
import sys

import pytest

import simlab
from simlab import analytics

from .conftest import REPO, synthetic_database

ENGINE_SIDE = (
    "simlab.engine",
    "simlab.recorder",
    "simlab.population.bluesky",
    "simlab.population.synthetic",
    "simlab.compare",
)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )


@pytest.mark.parametrize(
    "module",
    [
        "simlab.report",
        "simlab.figures",
        "simlab.analytics",
        "simlab.charts",
        "simlab.notebook_launch",
        "simlab.metrics",  # the charts' labels: it reads the world, not the importers
    ],
)
def test_presentation_never_imports_the_engine(module):
    done = _python(
        f"import sys, {module}\nprint(','.join(m for m in {ENGINE_SIDE!r} if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"importing {module} loaded {done.stdout.strip()}"


def test_help_loads_neither_sqlalchemy_nor_the_analytics_stack():
    """``simlab --help`` (and a mistyped flag) pays only for typer and the run config."""
    done = _python(
        "import sys\n"
        "sys.argv = ['simlab', '--help']\n"
        "from simlab.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'pandas', 'duckdb', 'pyarrow', 'altair', 'scipy')\n"
        "print(','.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    assert done.stderr.strip() == ""


def test_subpackages_are_reached_lazily():
    done = _python(
        "import sys, simlab\n"
        "before = sorted(m for m in sys.modules if m.startswith('simlab.'))\n"
        "simlab.analytics.connect, simlab.charts.save, simlab.feeds.FEEDS, simlab.metrics.METRICS\n"
        "print(before, 'simlab.engine' in sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "False"]
    with pytest.raises(AttributeError, match="has no attribute 'no_such_module'"):
        simlab.no_such_module  # noqa: B018
    assert set(simlab.__all__) == {"RunConfig", "__version__", "resume", "run"}


SELECTORS = ("run_id", "run_ids", "comparison_id")


def _analytics_functions():
    for name in analytics.__all__:
        value = getattr(analytics, name)
        if inspect.isfunction(value):
            params = list(inspect.signature(value).parameters.values())
            if params and params[0].name == "con":
                yield name, params


@pytest.mark.parametrize(("name", "params"), list(_analytics_functions()))
def test_analytics_functions_take_con_then_keywords_selectors_first(name, params):
    rest = params[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest), name
    names = [p.name for p in rest]
    selectors = [n for n in names if n in SELECTORS]
    assert names[: len(selectors)] == selectors, f"{name}: selectors come first, got {names}"
    assert selectors == sorted(selectors, key=SELECTORS.index), name


def test_every_function_selecting_runs_accepts_a_selection():
    selecting = [n for n, params in _analytics_functions() if "run_ids" in [p.name for p in params]]
    assert {"turn_metrics", "metric_bands", "summary", "metric_options", "action_mix"} <= set(
        selecting
    )
    for name in selecting:
        parameters = inspect.signature(getattr(analytics, name)).parameters
        assert set(analytics.Selection().kwargs) <= set(parameters), name


# --- the documentation's Python runs ------------------------------------------------


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory):
    """A folder with ``data/simlab.db`` (a small synthetic population), the docs' default path."""
    folder = tmp_path_factory.mktemp("docs")
    path = folder / "data" / "simlab.db"
    path.parent.mkdir()
    synthetic_database(path, agents=40, posts=200, seed=1)
    return folder


def test_package_docstring_runs_as_a_doctest(docs_dir, monkeypatch):
    monkeypatch.chdir(docs_dir)
    monkeypatch.delenv("SIMLAB_DB", raising=False)
    result = doctest.testmod(simlab, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def _readme_python() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_readme_python_examples_run(docs_dir, monkeypatch):
    blocks = _readme_python()
    assert blocks, "README.md has no ```python block"
    monkeypatch.chdir(docs_dir)
    monkeypatch.delenv("SIMLAB_DB", raising=False)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert not namespace["frame"].empty


def test_readme_toml_run_config_is_valid():
    import tomllib

    from simlab.config import RunConfig

    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no ```toml block"
    for block in blocks:
        config = RunConfig.model_validate(tomllib.loads(block))
        assert config.model_dump()["opinion"]["name"] in simlab.opinion.OPINIONS
