"""Run bundles: hand runs (or a comparison) to a colleague as Parquet files with a manifest.

``export_bundle(db, out, run_ids=...)`` / ``export_bundle(db, out, comparison_id=...)``
writes the folder; ``import_bundle(folder, db)`` verifies and merges it. Which
rows go in is decided from the schema metadata (:mod:`simlab.bundle.scope`).
The names are imported on first use, so the command line starts without pyarrow.
"""

from simlab.lazy_exports import exported

_EXPORTS = {"export_bundle": "simlab.bundle.export", "import_bundle": "simlab.bundle.load"}

__all__ = ["export_bundle", "import_bundle"]

__getattr__ = exported(__name__, _EXPORTS)
