"""LLM agents: calls, response cache, budget events, personas, stances.

Revision ID: 0006_llm
Revises: 0003_comparisons
Create Date: 2026-12-01 08:50:58.125167
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_llm"
down_revision: str | None = "0005_import_fidelity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "llm_cache",
        sa.Column("cache_key", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("model_fingerprint", sa.Text(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("sample_index", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.REAL(), nullable=False),
        sa.Column("transport_retries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(content IS NULL) != (error IS NULL)", name=op.f("ck_llm_cache_content_or_error")
        ),
        sa.PrimaryKeyConstraint("cache_key", name="pk_llm_cache"),
    )
    with op.batch_alter_table("llm_cache", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("idx_llm_cache_agent_handle_turn_number"),
            ["agent_handle", "turn_number"],
            unique=False,
        )

    op.create_table(
        "agent_personas",
        sa.Column("persona_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("tone", sa.Text(), nullable=False),
        sa.Column("style", sa.Text(), nullable=False),
        sa.Column("values_json", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.agent_id"], name=op.f("fk_agent_personas_agent_id")
        ),
        sa.PrimaryKeyConstraint("persona_id", name="pk_agent_personas"),
    )
    with op.batch_alter_table("agent_personas", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("idx_agent_personas_agent_id_created_at"),
            ["agent_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "agent_stances",
        sa.Column("stance_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("stance", sa.Text(), nullable=False),
        sa.Column("confidence", sa.REAL(), nullable=False),
        sa.Column("leaning", sa.REAL(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('current', 'superseded')", name=op.f("ck_agent_stances_status_valid")
        ),
        sa.CheckConstraint(
            "confidence BETWEEN 0 AND 1", name=op.f("ck_agent_stances_confidence_range")
        ),
        sa.CheckConstraint(
            "leaning IS NULL OR leaning BETWEEN -1 AND 1",
            name=op.f("ck_agent_stances_leaning_range"),
        ),
        sa.CheckConstraint("turn_number >= 0", name=op.f("ck_agent_stances_turn_number_gte_0")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_agent_stances_run_id")),
        sa.PrimaryKeyConstraint("stance_id", name="pk_agent_stances"),
    )
    with op.batch_alter_table("agent_stances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("idx_agent_stances_run_id_agent_handle_topic_turn_number"),
            ["run_id", "agent_handle", "topic", "turn_number"],
            unique=False,
        )

    op.create_table(
        "budget_events",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("used", sa.REAL(), nullable=False),
        sa.Column("limit_value", sa.REAL(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('warn', 'block')", name=op.f("ck_budget_events_action_valid")
        ),
        sa.CheckConstraint(
            "kind IN ('alert', 'exceeded', 'blocked')", name=op.f("ck_budget_events_kind_valid")
        ),
        sa.CheckConstraint(
            "metric IN ('tokens', 'cost')", name=op.f("ck_budget_events_metric_valid")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_budget_events_run_id")),
        sa.PrimaryKeyConstraint("event_id", name="pk_budget_events"),
    )
    with op.batch_alter_table("budget_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("idx_budget_events_run_id"), ["run_id"], unique=False)

    op.create_table(
        "llm_calls",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("agent_handle", sa.Text(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("transport_retries", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.REAL(), nullable=False),
        sa.Column("cost_usd", sa.REAL(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("cache_hit", sa.Integer(), nullable=False),
        sa.Column("cache_key", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('ok', 'invalid', 'retried', 'failed', 'budget_blocked')",
            name=op.f("ck_llm_calls_status_valid"),
        ),
        sa.CheckConstraint(
            "attempt >= 0 AND transport_retries >= 0", name=op.f("ck_llm_calls_counts_gte_0")
        ),
        sa.CheckConstraint("cache_hit IN (0, 1)", name=op.f("ck_llm_calls_cache_hit_bool")),
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND cached_tokens >= 0",
            name=op.f("ck_llm_calls_tokens_gte_0"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_llm_calls_run_id")),
        sa.PrimaryKeyConstraint("call_id", name="pk_llm_calls"),
    )
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("idx_llm_calls_model"), ["model"], unique=False)
        batch_op.create_index(
            batch_op.f("idx_llm_calls_run_id_turn_number_agent_handle"),
            ["run_id", "turn_number", "agent_handle"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_llm_calls_run_id_turn_number_agent_handle"))
        batch_op.drop_index(batch_op.f("idx_llm_calls_model"))

    op.drop_table("llm_calls")
    with op.batch_alter_table("budget_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_budget_events_run_id"))

    op.drop_table("budget_events")
    with op.batch_alter_table("agent_stances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_agent_stances_run_id_agent_handle_topic_turn_number"))

    op.drop_table("agent_stances")
    with op.batch_alter_table("agent_personas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_agent_personas_agent_id_created_at"))

    op.drop_table("agent_personas")
    with op.batch_alter_table("llm_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("idx_llm_cache_agent_handle_turn_number"))

    op.drop_table("llm_cache")
