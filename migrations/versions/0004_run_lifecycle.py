"""Run lifecycle: the writer's lease (pid, host, heartbeat) and the population fingerprint.

Revision ID: 0004_run_lifecycle
Revises: 0003_comparisons
Create Date: 2026-12-01 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_run_lifecycle"
down_revision: str | None = "0003_comparisons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_lifecycle",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("population_fingerprint", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("heartbeat_at", sa.Text(), nullable=False),
        sa.Column("lease_expires_at", sa.Text(), nullable=False),
        sa.Column("released_at", sa.Text(), nullable=True),
        sa.CheckConstraint("pid > 0", name=op.f("ck_run_lifecycle_pid_gt_0")),
        sa.CheckConstraint(
            "lease_expires_at >= heartbeat_at",
            name=op.f("ck_run_lifecycle_lease_after_heartbeat"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_run_lifecycle_run_id")),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_lifecycle"),
    )


def downgrade() -> None:
    op.drop_table("run_lifecycle")
