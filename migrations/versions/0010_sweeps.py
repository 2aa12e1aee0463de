"""Sweeps: a sweep's grid (``sweeps``) and the state of each of its cells (``sweep_cells``).

Revision ID: 0010_sweeps
Revises: 0009_compact_rows
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_sweeps"
down_revision: str | None = "0009_compact_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("sweep_id", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sweep_id", name="pk_sweeps"),
    )
    with op.batch_alter_table("sweeps", schema=None) as batch_op:
        batch_op.create_index("idx_sweeps_created_at", ["created_at"], unique=False)

    op.create_table(
        "sweep_cells",
        sa.Column("sweep_id", sa.Text(), nullable=False),
        sa.Column("cell", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("shard", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.CheckConstraint("cell >= 0", name=op.f("ck_sweep_cells_cell_gte_0")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_sweep_cells_attempts_gte_0")),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed')",
            name=op.f("ck_sweep_cells_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["sweep_id"], ["sweeps.sweep_id"], name=op.f("fk_sweep_cells_sweep_id")
        ),
        sa.PrimaryKeyConstraint("sweep_id", "cell", name="pk_sweep_cells"),
        sa.UniqueConstraint("run_id", name=op.f("uq_sweep_cells_run_id")),
    )


def downgrade() -> None:
    op.drop_table("sweep_cells")
    with op.batch_alter_table("sweeps", schema=None) as batch_op:
        batch_op.drop_index("idx_sweeps_created_at")
    op.drop_table("sweeps")
