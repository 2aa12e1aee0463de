"""The ``simlab`` command line (typer): one module per group of commands.

Commands parse flags and call into simlab; bad input becomes a one-line error
and exit code 2 (:func:`simlab.cli.app.main`). Importing a command module
registers its commands; the order below is the order ``simlab --help`` lists them.
"""

from importlib import import_module

from simlab.cli.app import app, main
from simlab.llm.cli import app as llm_app

for _module in (
    "population_commands",
    "run_commands",
    "compare_commands",
    "sweep_commands",
    "workbench_commands",
    "figure_commands",
    "registry_commands",
    "db_commands",
    "validate_commands",
):
    import_module(f"simlab.cli.{_module}")
app.add_typer(llm_app)  # simlab llm serve, simlab usage

__all__ = ["app", "main"]
