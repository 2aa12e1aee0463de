"""Evaluations: append-only content scores and per-agent score histories.

Revision ID: 0007_evaluations
Revises: 0003_comparisons
Create Date: 2026-12-01 08:51:47.022273

Both tables are append-only: on SQLite, BEFORE UPDATE / BEFORE DELETE triggers
abort the statement (``simlab.schema.APPEND_ONLY_TRIGGERS`` holds the same
statements; a test compares them). On PostgreSQL, row-level BEFORE UPDATE /
BEFORE DELETE triggers of the same names (and a BEFORE TRUNCATE one) call the
plpgsql function ``simlab_append_only()``, which raises an exception with the
same message. Dropping a table drops its triggers; the downgrade drops the function.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_evaluations"
down_revision: str | None = "0006_llm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("evaluations", "agent_score_history")


def _trigger(table: str, verb: str) -> str:
    return (
        f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} is not allowed'); END"
    )


PG_FUNCTION = "simlab_append_only"


def _pg_statements(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"FOR EACH {level} EXECUTE FUNCTION {PG_FUNCTION}()"
        for verb, level in (("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT"))
    ]


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("evaluator", sa.Text(), nullable=False),
        sa.Column("evaluator_version", sa.Text(), nullable=False),
        sa.Column("target_kind", sa.Text(), nullable=False),
        sa.Column("target_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("turn_number", sa.Integer(), nullable=True),
        sa.Column("agent_handle", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.REAL(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(status = 'ok' AND scores IS NOT NULL) OR (status = 'failed' AND scores IS NULL)",
            name=op.f("ck_evaluations_status_scores_consistent"),
        ),
        sa.CheckConstraint(
            "target_kind IN ('comments', 'agent_posts', 'feed_posts')",
            name=op.f("ck_evaluations_target_kind_valid"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_evaluations_run_id")),
        sa.PrimaryKeyConstraint("evaluation_id", name="pk_evaluations"),
        sa.UniqueConstraint(
            "evaluator",
            "evaluator_version",
            "target_kind",
            "target_id",
            name="uq_evaluations_target_version",
        ),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(
            "idx_evaluations_run_turn_agent", ["run_id", "turn_number", "agent_handle"]
        )

    op.create_table(
        "agent_score_history",
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("evaluator", sa.Text(), nullable=False),
        sa.Column("evaluator_version", sa.Text(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("dimension_means", sa.Text(), nullable=False),
        sa.Column("overall_mean", sa.REAL(), nullable=False),
        sa.Column("top_dimension", sa.Text(), nullable=False),
        sa.Column("top_score", sa.REAL(), nullable=False),
        sa.Column("high_flags", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint("items > 0", name=op.f("ck_agent_score_history_items_gt_0")),
        sa.CheckConstraint(
            "turn_number >= 0", name=op.f("ck_agent_score_history_turn_number_gte_0")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_agent_score_history_run_id")
        ),
        sa.PrimaryKeyConstraint("history_id", name="pk_agent_score_history"),
    )
    with op.batch_alter_table("agent_score_history", schema=None) as batch_op:
        batch_op.create_index(
            "idx_agent_score_history_run_evaluator_turn", ["run_id", "evaluator", "turn_number"]
        )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(_trigger(table, verb))
    elif dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        for table in APPEND_ONLY:
            for statement in _pg_statements(table):
                op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("agent_score_history", schema=None) as batch_op:
        batch_op.drop_index("idx_agent_score_history_run_evaluator_turn")
    op.drop_table("agent_score_history")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index("idx_evaluations_run_turn_agent")
    op.drop_table("evaluations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {PG_FUNCTION}()")
