"""Populations: a synthetic generator, Bluesky, SQLite and OASIS importers, and the labeller.

    summary = create_synthetic(engine, SyntheticConfig(agents=1000, seed=1))
    summary = import_bluesky(engine, ["profile.json", "feed.json"], on_duplicate="skip")
    summary = import_sqlite(engine, "other.db")
    summary = import_oasis(engine, "oasis_run.db", step_hours=1.0)
    topic, leaning, confidence = label_text("Rent control now")

Each writes in one transaction into a database migrated to head and returns a
:class:`Summary` of what it wrote; bad input raises
:class:`simlab.errors.InputError` with nothing written. The names are imported
on first use (:mod:`simlab.lazy_exports`): the engine's world reads
:mod:`simlab.population.labels_served`, and a notebook that only labels
metrics should not load the importers (0.3 s).
"""

from simlab.lazy_exports import exported

_EXPORTS = {
    "import_bluesky": "simlab.population.bluesky",
    "Label": "simlab.population.labels",
    "PostLabel": "simlab.population.labels",
    "label_post": "simlab.population.labels",
    "label_text": "simlab.population.labels",
    "import_oasis": "simlab.population.oasis",
    "import_sqlite": "simlab.population.sqlite_import",
    "SyntheticConfig": "simlab.population.synthetic",
    "create_synthetic": "simlab.population.synthetic",
    "Summary": "simlab.population.writer",
}

__all__ = sorted(_EXPORTS)

__getattr__ = exported(__name__, _EXPORTS)
