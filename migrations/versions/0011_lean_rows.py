"""Lean rows: compact actions store no repeated timestamp or model; feed scores without rowid.

``run_models`` records each run's policy's ``model_used`` once, so a
compact rule-based like, comment or follow can store ``model_used`` NULL; it
also stores ``generation_created_at`` NULL (it always equalled ``created_at``).
The ``*_explained`` views rebuild both (:func:`simlab.compact_rows.explained_view`).
Rows written before this revision keep their values and pass through the views
unchanged, so upgrading rewrites no action row. On SQLite ``feed_scores``
becomes a WITHOUT ROWID table (its rows copied over), which drops the index
that held a second copy of its key.

Downgrade writes the rebuilt values into the rows that store NULL, so the
tables hold what revision 0010 would have written.

Revision ID: 0011_lean_rows
Revises: 0010_sweeps
Create Date: 2026-12-01 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simlab.compact_rows import EXPLAINED_TABLES, explained_view, is_compact, lean_columns

revision: str = "0011_lean_rows"
down_revision: str | None = "0010_sweeps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORE_COLUMNS = "run_id, turn_number, agent_handle, scores"


def _rebuild_feed_scores(with_rowid: bool) -> None:
    """Copy ``feed_scores`` into a table of the same columns with or without rowid (SQLite)."""
    op.create_table(
        "feed_scores_rebuilt",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_handle", "run_id", "turn_number"],
            [
                "generated_feeds.agent_handle",
                "generated_feeds.run_id",
                "generated_feeds.turn_number",
            ],
            name="fk_feed_scores_generated_feeds",
        ),
        sa.PrimaryKeyConstraint("run_id", "turn_number", "agent_handle", name="pk_feed_scores"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        f"INSERT INTO feed_scores_rebuilt ({SCORE_COLUMNS}) SELECT {SCORE_COLUMNS} FROM feed_scores"
    )
    op.drop_table("feed_scores")
    op.rename_table("feed_scores_rebuilt", "feed_scores")


def _replace_views(dialect: str, lean: bool) -> None:
    for table in EXPLAINED_TABLES:
        op.execute(f"DROP VIEW IF EXISTS {table}_explained")
        op.execute(explained_view(table, dialect, lean=lean))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "run_models",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("model_used", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_models_run_id"),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_models"),
    )
    _replace_views(dialect, lean=True)
    if dialect == "sqlite":
        _rebuild_feed_scores(with_rowid=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, (kind, _) in EXPLAINED_TABLES.items():
        rebuilt = lean_columns(kind, dialect, table)
        compact = is_compact(f"{table}.explanation", f"{table}.generation_metadata_json")
        op.execute(
            f"UPDATE {table} SET model_used = {rebuilt['model_used']}, "
            f"generation_created_at = {rebuilt['generation_created_at']} "
            f"WHERE {compact} AND (model_used IS NULL OR generation_created_at IS NULL)"
        )
    for table in EXPLAINED_TABLES:
        op.execute(f"DROP VIEW {table}_explained")
    op.drop_table("run_models")
    for table in EXPLAINED_TABLES:
        op.execute(explained_view(table, dialect, lean=False))
    if dialect == "sqlite":
        _rebuild_feed_scores(with_rowid=True)
