"""Simulation tables: population traits, post labels, run configs, feed scores, leanings.

Revision ID: 0002_simulation
Revises: 0001_seed_schema
Create Date: 2026-11-22 21:22:02.748549
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_simulation"
down_revision: str | None = "0001_seed_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "populations",
        sa.Column("population_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "source IN ('synthetic', 'bluesky', 'sqlite')", name=op.f("ck_populations_source_valid")
        ),
        sa.PrimaryKeyConstraint("population_id", name="pk_populations"),
    )
    op.create_table(
        "agent_leanings",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=False),
        sa.CheckConstraint(
            "leaning BETWEEN -1 AND 1", name=op.f("ck_agent_leanings_leaning_range")
        ),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_agent_leanings_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_agent_leanings_run_id")),
        sa.PrimaryKeyConstraint("run_id", "turn_number", "agent_handle", name="pk_agent_leanings"),
    )
    op.create_table(
        "agent_traits",
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=False),
        sa.Column("interests", sa.Text(), nullable=False),
        sa.Column("activity_rate", sa.REAL(), nullable=False),
        sa.Column("like_propensity", sa.REAL(), nullable=False),
        sa.Column("comment_propensity", sa.REAL(), nullable=False),
        sa.Column("follow_propensity", sa.REAL(), nullable=False),
        sa.CheckConstraint(
            "activity_rate BETWEEN 0 AND 1", name=op.f("ck_agent_traits_activity_rate_range")
        ),
        sa.CheckConstraint("leaning BETWEEN -1 AND 1", name=op.f("ck_agent_traits_leaning_range")),
        sa.CheckConstraint(
            "like_propensity BETWEEN 0 AND 1 AND comment_propensity BETWEEN 0 AND 1 AND follow_propensity BETWEEN 0 AND 1",
            name=op.f("ck_agent_traits_propensities_range"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.agent_id"], name=op.f("fk_agent_traits_agent_id")
        ),
        sa.PrimaryKeyConstraint("agent_id", name="pk_agent_traits"),
    )
    op.create_table(
        "initial_follows",
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("followed_handle", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "agent_handle != followed_handle", name=op.f("ck_initial_follows_no_self_follow")
        ),
        sa.ForeignKeyConstraint(
            ["agent_handle"], ["agent.handle"], name=op.f("fk_initial_follows_agent_handle")
        ),
        sa.PrimaryKeyConstraint("agent_handle", "followed_handle", name="pk_initial_follows"),
    )
    op.create_table(
        "post_annotations",
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=False),
        sa.Column("label_source", sa.Text(), nullable=False),
        sa.Column("label_confidence", sa.REAL(), nullable=True),
        sa.CheckConstraint(
            "label_source IN ('synthetic', 'inferred')",
            name=op.f("ck_post_annotations_label_source_valid"),
        ),
        sa.CheckConstraint(
            "leaning BETWEEN -1 AND 1", name=op.f("ck_post_annotations_leaning_range")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["feed_posts.post_id"], name=op.f("fk_post_annotations_post_id")
        ),
        sa.PrimaryKeyConstraint("post_id", name="pk_post_annotations"),
    )
    with op.batch_alter_table("post_annotations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("idx_post_annotations_topic"), ["topic"], unique=False)

    op.create_table(
        "run_configs",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("simlab_version", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_run_configs_run_id")),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_configs"),
    )
    op.create_table(
        "run_failures",
        sa.Column("failure_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_run_failures_run_id")),
        sa.PrimaryKeyConstraint("failure_id", name="pk_run_failures"),
    )
    with op.batch_alter_table("run_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("idx_run_failures_run_id"), ["run_id"], unique=False)

    op.create_table(
        "feed_scores",
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
    )


def downgrade() -> None:
    op.drop_table("feed_scores")
    with op.batch_alter_table("run_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_run_failures_run_id"))

    op.drop_table("run_failures")
    op.drop_table("run_configs")
    with op.batch_alter_table("post_annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_post_annotations_topic"))

    op.drop_table("post_annotations")
    op.drop_table("initial_follows")
    op.drop_table("agent_traits")
    op.drop_table("agent_leanings")
    op.drop_table("populations")
