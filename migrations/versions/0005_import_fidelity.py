"""Import fidelity: handles, post structure, labels, inferences, imported engagement.

Also lets ``populations.source`` be 'oasis' (a non-seed table: its check
constraint is recreated in batch mode).

Revision ID: 0005_import_fidelity
Revises: 0003_comparisons
Create Date: 2026-12-01 08:51:39.774837
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_import_fidelity"
down_revision: str | None = "0004_run_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_SOURCES = "source IN ('synthetic', 'bluesky', 'sqlite')"
NEW_SOURCES = "source IN ('synthetic', 'bluesky', 'sqlite', 'oasis')"


def _populations_sources(sql: str) -> None:
    with op.batch_alter_table("populations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_populations_source_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_populations_source_valid"), sql)


def upgrade() -> None:
    _populations_sources(NEW_SOURCES)
    op.create_table(
        "account_handles",
        sa.Column("did", sa.Text(), nullable=False),
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.Text(), nullable=False),
        sa.Column("last_seen_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("did", "handle", name="pk_account_handles"),
    )
    with op.batch_alter_table("account_handles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("idx_account_handles_handle"), ["handle"], unique=False)

    op.create_table(
        "agent_inferences",
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=True),
        sa.Column("leaning_confidence", sa.REAL(), nullable=False),
        sa.Column("interests_confidence", sa.REAL(), nullable=False),
        sa.Column("posts_used", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "leaning IS NULL OR leaning BETWEEN -1 AND 1",
            name=op.f("ck_agent_inferences_leaning_range"),
        ),
        sa.CheckConstraint(
            "leaning_confidence BETWEEN 0 AND 1 AND interests_confidence BETWEEN 0 AND 1",
            name=op.f("ck_agent_inferences_confidence_range"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.agent_id"], name=op.f("fk_agent_inferences_agent_id")
        ),
        sa.PrimaryKeyConstraint("agent_id", name="pk_agent_inferences"),
    )
    op.create_table(
        "imported_engagement",
        sa.Column("engagement_id", sa.Text(), nullable=False),
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("account_handle", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('like', 'dislike', 'comment')", name=op.f("ck_imported_engagement_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["feed_posts.post_id"], name=op.f("fk_imported_engagement_post_id")
        ),
        sa.PrimaryKeyConstraint("engagement_id", name="pk_imported_engagement"),
    )
    with op.batch_alter_table("imported_engagement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("idx_imported_engagement_post_id"), ["post_id"], unique=False
        )

    op.create_table(
        "post_details",
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("author_did", sa.Text(), nullable=True),
        sa.Column("cid", sa.Text(), nullable=True),
        sa.Column("indexed_at", sa.Text(), nullable=True),
        sa.Column("langs", sa.Text(), nullable=True),
        sa.Column("reply_parent_uri", sa.Text(), nullable=True),
        sa.Column("reply_root_uri", sa.Text(), nullable=True),
        sa.Column("quote_uri", sa.Text(), nullable=True),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("text_source", sa.Text(), nullable=False),
        sa.Column("facets_json", sa.Text(), nullable=True),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "text_source IN ('text', 'alt', 'empty')",
            name=op.f("ck_post_details_text_source_valid"),
        ),
        sa.CheckConstraint("served IN (0, 1)", name=op.f("ck_post_details_served_bool")),
        sa.ForeignKeyConstraint(
            ["post_id"], ["feed_posts.post_id"], name=op.f("fk_post_details_post_id")
        ),
        sa.PrimaryKeyConstraint("post_id", name="pk_post_details"),
    )
    with op.batch_alter_table("post_details", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("idx_post_details_author_did"), ["author_did"], unique=False
        )
        batch_op.create_index(
            batch_op.f("idx_post_details_reply_parent_uri"), ["reply_parent_uri"], unique=False
        )

    op.create_table(
        "post_inferences",
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("topic_confidence", sa.REAL(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=True),
        sa.Column("leaning_confidence", sa.REAL(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "leaning IS NULL OR leaning BETWEEN -1 AND 1",
            name=op.f("ck_post_inferences_leaning_range"),
        ),
        sa.CheckConstraint(
            "topic_confidence BETWEEN 0 AND 1 AND leaning_confidence BETWEEN 0 AND 1",
            name=op.f("ck_post_inferences_confidence_range"),
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["feed_posts.post_id"], name=op.f("fk_post_inferences_post_id")
        ),
        sa.PrimaryKeyConstraint("post_id", name="pk_post_inferences"),
    )
    op.create_table(
        "post_labels",
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("src", sa.Text(), nullable=False),
        sa.Column("val", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('self', 'moderation')", name=op.f("ck_post_labels_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["feed_posts.post_id"], name=op.f("fk_post_labels_post_id")
        ),
        sa.PrimaryKeyConstraint("post_id", "src", "val", name="pk_post_labels"),
    )
    op.create_table(
        "reposts",
        sa.Column("post_id", sa.Text(), nullable=False),
        sa.Column("reposter_did", sa.Text(), nullable=False),
        sa.Column("reposter_handle", sa.Text(), nullable=False),
        sa.Column("reposted_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["feed_posts.post_id"], name=op.f("fk_reposts_post_id")
        ),
        sa.PrimaryKeyConstraint("post_id", "reposter_did", name="pk_reposts"),
    )
    with op.batch_alter_table("reposts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("idx_reposts_reposter_handle"), ["reposter_handle"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reposts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_reposts_reposter_handle"))

    op.drop_table("reposts")
    op.drop_table("post_labels")
    op.drop_table("post_inferences")
    with op.batch_alter_table("post_details", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_post_details_reply_parent_uri"))
        batch_op.drop_index(batch_op.f("idx_post_details_author_did"))

    op.drop_table("post_details")
    with op.batch_alter_table("imported_engagement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_imported_engagement_post_id"))

    op.drop_table("imported_engagement")
    op.drop_table("agent_inferences")
    with op.batch_alter_table("account_handles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_account_handles_handle"))

    op.drop_table("account_handles")
    op.execute("DELETE FROM populations WHERE source = 'oasis'")
    _populations_sources(OLD_SOURCES)
