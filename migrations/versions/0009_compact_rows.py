"""Compact rows: leanings only where they changed, views that rebuild the full panel and texts.

``agent_leanings`` (one row per agent and turn) becomes ``agent_leaning_changes``
(every agent at turn 0, then only changed leanings) plus a view of the old name
and columns that forward-fills it. Existing leanings are carried over (turn 0,
then rows that differ from the agent's previous turn), so the view returns the
rows the table held. The ``*_explained`` views expand compact rule-based action
rows (:mod:`simlab.compact_rows`); older rows pass through unchanged.

Revision ID: 0009_compact_rows
Revises: 0008_agent_posts
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from simlab.compact_rows import expanded_columns

revision: str = "0009_compact_rows"
down_revision: str | None = "0008_agent_posts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION_TABLES = {
    "likes": ("like", "like_id, run_id, turn_number, agent_handle, post_id, created_at"),
    "comments": (
        "comment",
        "comment_id, run_id, turn_number, agent_handle, post_id, text, created_at",
    ),
    "follows": ("follow", "follow_id, run_id, turn_number, agent_handle, user_id, created_at"),
}

LEANINGS_VIEW = """
CREATE VIEW agent_leanings AS
SELECT m.run_id, m.turn_number, a.agent_handle,
       (SELECT c.leaning FROM agent_leaning_changes AS c
        WHERE c.run_id = m.run_id AND c.agent_handle = a.agent_handle
          AND c.turn_number <= m.turn_number
        ORDER BY c.turn_number DESC LIMIT 1) AS leaning
FROM turn_metadata AS m
JOIN agent_leaning_changes AS a ON a.run_id = m.run_id AND a.turn_number = 0
"""


def _action_view(table: str, dialect: str) -> str:
    kind, columns = ACTION_TABLES[table]
    explanation, metadata = expanded_columns(
        kind, dialect, "explanation", "generation_metadata_json"
    )
    return (
        f"CREATE VIEW {table}_explained AS SELECT {columns}, {explanation} AS explanation, "
        f"model_used, {metadata} AS generation_metadata_json, generation_created_at "
        f"FROM {table}"
    )


def upgrade() -> None:
    op.create_table(
        "agent_leaning_changes",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=False),
        sa.CheckConstraint(
            "leaning BETWEEN -1 AND 1", name=op.f("ck_agent_leaning_changes_leaning_range")
        ),
        sa.CheckConstraint(
            "turn_number >= 0", name=op.f("ck_agent_leaning_changes_turn_number_gte_0")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name="fk_agent_leaning_changes_run_id"
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "agent_handle", "turn_number", name="pk_agent_leaning_changes"
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO agent_leaning_changes (run_id, agent_handle, turn_number, leaning) "
        "SELECT l.run_id, l.agent_handle, l.turn_number, l.leaning FROM agent_leanings AS l "
        "LEFT JOIN agent_leanings AS p ON p.run_id = l.run_id "
        "AND p.agent_handle = l.agent_handle AND p.turn_number = l.turn_number - 1 "
        "WHERE l.turn_number = 0 OR p.leaning IS NULL OR p.leaning <> l.leaning"
    )
    op.drop_table("agent_leanings")
    op.execute(LEANINGS_VIEW)
    dialect = op.get_bind().dialect.name
    for table in ACTION_TABLES:
        op.execute(_action_view(table, dialect))


def downgrade() -> None:
    for table in ACTION_TABLES:
        op.execute(f"DROP VIEW {table}_explained")
    op.create_table(
        "agent_leanings_full",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=False),
    )
    op.execute(
        "INSERT INTO agent_leanings_full (run_id, turn_number, agent_handle, leaning) "
        "SELECT run_id, turn_number, agent_handle, leaning FROM agent_leanings"
    )
    op.execute("DROP VIEW agent_leanings")
    op.drop_table("agent_leaning_changes")
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
    op.execute("INSERT INTO agent_leanings SELECT * FROM agent_leanings_full")
    op.drop_table("agent_leanings_full")
