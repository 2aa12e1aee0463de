"""Agent posts: the posts agents write during a run (candidates from the next turn).

Revision ID: 0008_agent_posts
Revises: 0007_evaluations
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_agent_posts"
down_revision: str | None = "0007_evaluations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_posts",
        sa.Column("agent_post_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("model_used", sa.Text(), nullable=True),
        sa.Column("generation_metadata_json", sa.Text(), nullable=True),
        sa.Column("generation_created_at", sa.Text(), nullable=True),
        sa.CheckConstraint("leaning BETWEEN -1 AND 1", name=op.f("ck_agent_posts_leaning_range")),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_agent_posts_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_agent_posts_run_id"),
        sa.PrimaryKeyConstraint("agent_post_id", name="pk_agent_posts"),
        sa.UniqueConstraint("run_id", "post_id", name="uq_agent_posts_run_post"),
    )
    with op.batch_alter_table("agent_posts", schema=None) as batch_op:
        batch_op.create_index(
            "idx_agent_posts_run_turn_agent", ["run_id", "turn_number", "agent_handle"]
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_posts", schema=None) as batch_op:
        batch_op.drop_index("idx_agent_posts_run_turn_agent")
    op.drop_table("agent_posts")
