"""Seed schema: the fourteen contract tables of ../shared/spec/seed-schema.md.

This revision is the contract. Never edit it; add new tables in new revisions.

Revision ID: 0001_seed_schema
Revises:
Create Date: 2026-11-22 21:21:56.887505
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_seed_schema"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent",
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("persona_source", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name="pk_agent"),
        sa.UniqueConstraint("handle", name="uq_agent_handle"),
    )
    op.create_table(
        "agent_bios",
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("generated_bio", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("handle"),
    )
    op.create_table(
        "bluesky_profiles",
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("did", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("followers_count", sa.Integer(), nullable=False),
        sa.Column("follows_count", sa.Integer(), nullable=False),
        sa.Column("posts_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("handle"),
    )
    op.create_table(
        "feed_posts",
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("author_display_name", sa.Text(), nullable=False),
        sa.Column("author_handle", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("bookmark_count", sa.Integer(), nullable=False),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("quote_count", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("repost_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("post_id"),
    )
    with op.batch_alter_table("feed_posts", schema=None) as batch_op:
        batch_op.create_index("idx_feed_posts_author_handle", ["author_handle"], unique=False)

    op.create_table(
        "runs",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("total_turns", sa.Integer(), nullable=False),
        sa.Column("total_agents", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.Text(), nullable=True),
        sa.Column(
            "feed_algorithm", sa.Text(), server_default=sa.text("'chronological'"), nullable=False
        ),
        sa.Column("metric_keys", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "((status = 'completed' AND completed_at IS NOT NULL AND completed_at >= started_at) OR (status != 'completed' AND completed_at IS NULL))",
            name=op.f("ck_runs_completed_at_consistent"),
        ),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed')", name=op.f("ck_runs_status_valid")
        ),
        sa.CheckConstraint("total_agents > 0", name=op.f("ck_runs_total_agents_gt_0")),
        sa.CheckConstraint("total_turns > 0", name=op.f("ck_runs_total_turns_gt_0")),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("idx_runs_created_at", ["created_at"], unique=False)
        batch_op.create_index("idx_runs_status", ["status"], unique=False)

    op.create_table(
        "agent_persona_bios",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("persona_bio", sa.Text(), nullable=False),
        sa.Column("persona_bio_source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.agent_id"], name="fk_agent_persona_bios_agent_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agent_persona_bios"),
    )
    with op.batch_alter_table("agent_persona_bios", schema=None) as batch_op:
        batch_op.create_index(
            "idx_agent_persona_bios_agent_id_created_at", ["agent_id", "created_at"], unique=False
        )

    op.create_table(
        "comments",
        sa.Column("comment_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("model_used", sa.Text(), nullable=True),
        sa.Column("generation_metadata_json", sa.Text(), nullable=True),
        sa.Column("generation_created_at", sa.Text(), nullable=True),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_comments_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_comments_run_id"),
        sa.PrimaryKeyConstraint("comment_id", name="pk_comments"),
        sa.UniqueConstraint(
            "run_id",
            "turn_number",
            "agent_handle",
            "post_id",
            name="uq_comments_run_turn_agent_post",
        ),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "idx_comments_run_turn_agent", ["run_id", "turn_number", "agent_handle"], unique=False
        )

    op.create_table(
        "follows",
        sa.Column("follow_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("model_used", sa.Text(), nullable=True),
        sa.Column("generation_metadata_json", sa.Text(), nullable=True),
        sa.Column("generation_created_at", sa.Text(), nullable=True),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_follows_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_follows_run_id"),
        sa.PrimaryKeyConstraint("follow_id", name="pk_follows"),
        sa.UniqueConstraint(
            "run_id",
            "turn_number",
            "agent_handle",
            "user_id",
            name="uq_follows_run_turn_agent_user",
        ),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(
            "idx_follows_run_turn_agent", ["run_id", "turn_number", "agent_handle"], unique=False
        )

    op.create_table(
        "generated_feeds",
        sa.Column("feed_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("post_ids", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_generated_feeds_run_id"),
        sa.PrimaryKeyConstraint("agent_handle", "run_id", "turn_number", name="pk_generated_feeds"),
    )
    op.create_table(
        "likes",
        sa.Column("like_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("model_used", sa.Text(), nullable=True),
        sa.Column("generation_metadata_json", sa.Text(), nullable=True),
        sa.Column("generation_created_at", sa.Text(), nullable=True),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_likes_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_likes_run_id"),
        sa.PrimaryKeyConstraint("like_id", name="pk_likes"),
        sa.UniqueConstraint(
            "run_id", "turn_number", "agent_handle", "post_id", name="uq_likes_run_turn_agent_post"
        ),
    )
    with op.batch_alter_table("likes", schema=None) as batch_op:
        batch_op.create_index(
            "idx_likes_run_turn_agent", ["run_id", "turn_number", "agent_handle"], unique=False
        )

    op.create_table(
        "run_metrics",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_metrics_run_id"),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_metrics"),
    )
    op.create_table(
        "turn_metadata",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("total_actions", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_turn_metadata_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_turn_metadata_run_id"),
        sa.PrimaryKeyConstraint("run_id", "turn_number", name="pk_turn_metadata"),
    )
    with op.batch_alter_table("turn_metadata", schema=None) as batch_op:
        batch_op.create_index("idx_turn_metadata_run_id", ["run_id"], unique=False)

    op.create_table(
        "turn_metrics",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_turn_metrics_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_turn_metrics_run_id"),
        sa.PrimaryKeyConstraint("run_id", "turn_number", name="pk_turn_metrics"),
    )
    with op.batch_alter_table("turn_metrics", schema=None) as batch_op:
        batch_op.create_index("idx_turn_metrics_run_id", ["run_id"], unique=False)

    op.create_table(
        "user_agent_profile_metadata",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("followers_count", sa.Integer(), nullable=False),
        sa.Column("follows_count", sa.Integer(), nullable=False),
        sa.Column("posts_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.agent_id"], name="fk_user_agent_profile_metadata_agent_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_agent_profile_metadata"),
        sa.UniqueConstraint("agent_id", name="uq_user_agent_profile_metadata_agent_id"),
    )


def downgrade() -> None:
    op.drop_table("user_agent_profile_metadata")
    with op.batch_alter_table("turn_metrics", schema=None) as batch_op:
        batch_op.drop_index("idx_turn_metrics_run_id")

    op.drop_table("turn_metrics")
    with op.batch_alter_table("turn_metadata", schema=None) as batch_op:
        batch_op.drop_index("idx_turn_metadata_run_id")

    op.drop_table("turn_metadata")
    op.drop_table("run_metrics")
    with op.batch_alter_table("likes", schema=None) as batch_op:
        batch_op.drop_index("idx_likes_run_turn_agent")

    op.drop_table("likes")
    op.drop_table("generated_feeds")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index("idx_follows_run_turn_agent")

    op.drop_table("follows")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("idx_comments_run_turn_agent")

    op.drop_table("comments")
    with op.batch_alter_table("agent_persona_bios", schema=None) as batch_op:
        batch_op.drop_index("idx_agent_persona_bios_agent_id_created_at")

    op.drop_table("agent_persona_bios")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("idx_runs_status")
        batch_op.drop_index("idx_runs_created_at")

    op.drop_table("runs")
    with op.batch_alter_table("feed_posts", schema=None) as batch_op:
        batch_op.drop_index("idx_feed_posts_author_handle")

    op.drop_table("feed_posts")
    op.drop_table("bluesky_profiles")
    op.drop_table("agent_bios")
    op.drop_table("agent")
