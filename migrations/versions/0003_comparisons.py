"""Comparisons: which runs (arms x replicates) form one feed comparison.

Revision ID: 0003_comparisons
Revises: 0002_simulation
Create Date: 2026-11-22 21:32:51.646947
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_comparisons"
down_revision: str | None = "0002_simulation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comparisons",
        sa.Column("comparison_id", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("comparison_id", name="pk_comparisons"),
    )
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("idx_comparisons_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "comparison_runs",
        sa.Column("comparison_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("arm", sa.Text(), nullable=False),
        sa.Column("replicate", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.CheckConstraint("replicate >= 0", name=op.f("ck_comparison_runs_replicate_gte_0")),
        sa.ForeignKeyConstraint(
            ["comparison_id"],
            ["comparisons.comparison_id"],
            name=op.f("fk_comparison_runs_comparison_id"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_comparison_runs_run_id")
        ),
        sa.PrimaryKeyConstraint("comparison_id", "run_id", name="pk_comparison_runs"),
        sa.UniqueConstraint(
            "comparison_id",
            "arm",
            "replicate",
            name=op.f("uq_comparison_runs_comparison_id_arm_replicate"),
        ),
    )
    with op.batch_alter_table("comparison_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("idx_comparison_runs_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comparison_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_comparison_runs_run_id"))

    op.drop_table("comparison_runs")
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_comparisons_created_at"))

    op.drop_table("comparisons")
