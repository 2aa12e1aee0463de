"""Populations: a synthetic generator, Bluesky, SQLite and OASIS importers, and the labeller.

    summary = create_synthetic(engine, SyntheticConfig(agents=1000, seed=1))
    summary = import_bluesky(engine, ["profile.json", "feed.json"], on_duplicate="skip")
    summary = import_sqlite(engine, "other.db")
    summary = import_oasis(engine, "oasis_run.db", step_hours=1.0)
    topic, leaning, confidence = label_text("Rent control now")

Each writes in one transaction into a database migrated to head and returns a
:class:`Summary` of what it wrote; bad input raises
:class:`simlab.errors.InputError` with nothing written.
"""

from simlab.population.bluesky import import_bluesky
from simlab.population.labels import Label, PostLabel, label_post, label_text
from simlab.population.oasis import import_oasis
from simlab.population.sqlite_import import import_sqlite
from simlab.population.synthetic import SyntheticConfig, create_synthetic
from simlab.population.writer import Summary

__all__ = [
    "Label",
    "PostLabel",
    "Summary",
    "SyntheticConfig",
    "create_synthetic",
    "import_bluesky",
    "import_oasis",
    "import_sqlite",
    "label_post",
    "label_text",
]
