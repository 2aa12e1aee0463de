"""SQLAlchemy Core tables: the single source of truth for the database layout.

The fourteen *seed* tables are a contract shared with other tools
(`docs/db/schema.md`, generated from a migrated database, shows them). Their
names, columns, types, nullability, defaults, keys, indexes and check
constraints must never change; new features add new tables in new Alembic
revisions instead.

Constraint names: named primary keys, unique constraints, indexes and foreign
keys carry their full name explicitly; check constraints get the short name
and the ``ck_<table>_<name>`` naming convention adds the prefix. Four seed
primary keys (``agent_bios``, ``bluesky_profiles``, ``feed_posts``, ``runs``)
are unnamed in the contract and stay unnamed, which is why the convention has
no ``pk`` entry.

Why one long module: every table lives in one ``MetaData`` that Alembic's
autogenerate check (``simlab db check``), the schema doc and the bundle export
all read whole, and readers look tables up by revision. The file is therefore
laid out as one section per Alembic revision, in revision order; a new
revision appends its section at the end.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from simlab.postgres import FLOAT8, INT8

NAMING_CONVENTION = {
    "ix": "idx_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _text(name: str, nullable: bool = False, **kwargs) -> Column:
    return Column(name, Text, nullable=nullable, **kwargs)


def _int(name: str, nullable: bool = False, **kwargs) -> Column:
    return Column(name, INT8, nullable=nullable, **kwargs)  # BIGINT on PostgreSQL


def _real(name: str, nullable: bool = False, **kwargs) -> Column:
    return Column(name, FLOAT8, nullable=nullable, **kwargs)  # DOUBLE PRECISION on PostgreSQL


def _generation_columns() -> list[Column]:
    """Provenance columns shared by every agent action table."""
    return [
        _text("explanation", nullable=True),
        _text("model_used", nullable=True),
        _text("generation_metadata_json", nullable=True),
        _text("generation_created_at", nullable=True),
    ]


def _action_table(name: str, id_column: str, target_column: str, unique_name: str) -> Table:
    """One of the three agent-action tables (likes, comments, follows)."""
    extra = [_text("text")] if name == "comments" else []
    return Table(
        name,
        metadata,
        _text(id_column),
        _text("run_id"),
        _int("turn_number"),
        _text("agent_handle"),
        _text(target_column),
        *extra,
        _text("created_at"),
        *_generation_columns(),
        PrimaryKeyConstraint(id_column, name=f"pk_{name}"),
        ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=f"fk_{name}_run_id"),
        UniqueConstraint("run_id", "turn_number", "agent_handle", target_column, name=unique_name),
        CheckConstraint("turn_number >= 0", name="turn_number_gte_0"),
        Index(f"idx_{name}_run_turn_agent", "run_id", "turn_number", "agent_handle"),
    )


# --------------------------------------------------------------------------
# Seed tables (revision 0001): the contract. Do not edit.
# --------------------------------------------------------------------------

agent = Table(
    "agent",
    metadata,
    _text("agent_id"),
    _text("handle"),
    _text("persona_source"),
    _text("display_name"),
    _text("created_at"),
    _text("updated_at"),
    PrimaryKeyConstraint("agent_id", name="pk_agent"),
    UniqueConstraint("handle", name="uq_agent_handle"),
)

agent_bios = Table(
    "agent_bios",
    metadata,
    _text("handle"),
    _text("generated_bio"),
    _text("created_at"),
    PrimaryKeyConstraint("handle"),
)

agent_persona_bios = Table(
    "agent_persona_bios",
    metadata,
    _text("id"),
    _text("agent_id"),
    _text("persona_bio"),
    _text("persona_bio_source"),
    _text("created_at"),
    _text("updated_at"),
    PrimaryKeyConstraint("id", name="pk_agent_persona_bios"),
    ForeignKeyConstraint(["agent_id"], ["agent.agent_id"], name="fk_agent_persona_bios_agent_id"),
    Index("idx_agent_persona_bios_agent_id_created_at", "agent_id", "created_at"),
)

bluesky_profiles = Table(
    "bluesky_profiles",
    metadata,
    _text("handle"),
    _text("did"),
    _text("display_name"),
    _text("bio"),
    _int("followers_count"),
    _int("follows_count"),
    _int("posts_count"),
    PrimaryKeyConstraint("handle"),
)

feed_posts = Table(
    "feed_posts",
    metadata,
    _text("post_id"),
    _text("source"),
    _text("uri"),
    _text("author_display_name"),
    _text("author_handle"),
    _text("text"),
    _int("bookmark_count"),
    _int("like_count"),
    _int("quote_count"),
    _int("reply_count"),
    _int("repost_count"),
    _text("created_at"),
    PrimaryKeyConstraint("post_id"),
    Index("idx_feed_posts_author_handle", "author_handle"),
)

runs = Table(
    "runs",
    metadata,
    _text("run_id"),
    _text("created_at"),
    _int("total_turns"),
    _int("total_agents"),
    _text("started_at"),
    _text("status"),
    _text("completed_at", nullable=True),
    _text("feed_algorithm", server_default=text("'chronological'")),
    _text("metric_keys", nullable=True),
    PrimaryKeyConstraint("run_id"),
    CheckConstraint(
        "((status = 'completed' AND completed_at IS NOT NULL AND completed_at >= started_at)"
        " OR (status != 'completed' AND completed_at IS NULL))",
        name="completed_at_consistent",
    ),
    CheckConstraint("status IN ('running', 'completed', 'failed')", name="status_valid"),
    CheckConstraint("total_agents > 0", name="total_agents_gt_0"),
    CheckConstraint("total_turns > 0", name="total_turns_gt_0"),
    Index("idx_runs_created_at", "created_at"),
    Index("idx_runs_status", "status"),
)

comments = _action_table("comments", "comment_id", "post_id", "uq_comments_run_turn_agent_post")
follows = _action_table("follows", "follow_id", "user_id", "uq_follows_run_turn_agent_user")
likes = _action_table("likes", "like_id", "post_id", "uq_likes_run_turn_agent_post")

generated_feeds = Table(
    "generated_feeds",
    metadata,
    _text("feed_id"),
    _text("run_id"),
    _int("turn_number"),
    _text("agent_handle"),
    _text("post_ids"),
    _text("created_at"),
    PrimaryKeyConstraint("agent_handle", "run_id", "turn_number", name="pk_generated_feeds"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_generated_feeds_run_id"),
)

run_metrics = Table(
    "run_metrics",
    metadata,
    _text("run_id"),
    _text("metrics"),
    _text("created_at"),
    PrimaryKeyConstraint("run_id", name="pk_run_metrics"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_metrics_run_id"),
)


def _turn_table(name: str, payload_column: str) -> Table:
    """A per-(run, turn) table: turn_metadata or turn_metrics."""
    return Table(
        name,
        metadata,
        _text("run_id"),
        _int("turn_number"),
        _text(payload_column),
        _text("created_at"),
        PrimaryKeyConstraint("run_id", "turn_number", name=f"pk_{name}"),
        ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=f"fk_{name}_run_id"),
        CheckConstraint("turn_number >= 0", name="turn_number_gte_0"),
        Index(f"idx_{name}_run_id", "run_id"),
    )


turn_metadata = _turn_table("turn_metadata", "total_actions")
turn_metrics = _turn_table("turn_metrics", "metrics")

user_agent_profile_metadata = Table(
    "user_agent_profile_metadata",
    metadata,
    _text("id"),
    _text("agent_id"),
    _int("followers_count"),
    _int("follows_count"),
    _int("posts_count"),
    _text("created_at"),
    _text("updated_at"),
    PrimaryKeyConstraint("id", name="pk_user_agent_profile_metadata"),
    ForeignKeyConstraint(
        ["agent_id"], ["agent.agent_id"], name="fk_user_agent_profile_metadata_agent_id"
    ),
    UniqueConstraint("agent_id", name="uq_user_agent_profile_metadata_agent_id"),
)

SEED_TABLES: tuple[str, ...] = (
    "agent",
    "agent_bios",
    "agent_persona_bios",
    "bluesky_profiles",
    "comments",
    "feed_posts",
    "follows",
    "generated_feeds",
    "likes",
    "run_metrics",
    "runs",
    "turn_metadata",
    "turn_metrics",
    "user_agent_profile_metadata",
)


# --------------------------------------------------------------------------
# Simulation tables (revision 0002): population traits and run provenance.
# --------------------------------------------------------------------------

populations = Table(
    "populations",
    metadata,
    _int("population_id"),
    _text("source"),
    _text("config_json"),
    _text("created_at"),
    PrimaryKeyConstraint("population_id", name="pk_populations"),
    CheckConstraint("source IN ('synthetic', 'bluesky', 'sqlite', 'oasis')", name="source_valid"),
)

agent_traits = Table(
    "agent_traits",
    metadata,
    _text("agent_id"),
    _real("leaning"),
    _text("interests"),
    _real("activity_rate"),
    _real("like_propensity"),
    _real("comment_propensity"),
    _real("follow_propensity"),
    PrimaryKeyConstraint("agent_id", name="pk_agent_traits"),
    ForeignKeyConstraint(["agent_id"], ["agent.agent_id"]),
    CheckConstraint("leaning BETWEEN -1 AND 1", name="leaning_range"),
    CheckConstraint("activity_rate BETWEEN 0 AND 1", name="activity_rate_range"),
    CheckConstraint(
        "like_propensity BETWEEN 0 AND 1 AND comment_propensity BETWEEN 0 AND 1"
        " AND follow_propensity BETWEEN 0 AND 1",
        name="propensities_range",
    ),
)

post_annotations = Table(
    "post_annotations",
    metadata,
    _text("post_id"),
    _text("topic"),
    _real("leaning"),
    _text("label_source"),
    _real("label_confidence", nullable=True),
    PrimaryKeyConstraint("post_id", name="pk_post_annotations"),
    ForeignKeyConstraint(["post_id"], ["feed_posts.post_id"]),
    CheckConstraint("leaning BETWEEN -1 AND 1", name="leaning_range"),
    CheckConstraint("label_source IN ('synthetic', 'inferred')", name="label_source_valid"),
    Index(None, "topic"),
)

initial_follows = Table(
    "initial_follows",
    metadata,
    _text("agent_handle"),
    _text("followed_handle"),
    _text("created_at"),
    PrimaryKeyConstraint("agent_handle", "followed_handle", name="pk_initial_follows"),
    ForeignKeyConstraint(["agent_handle"], ["agent.handle"]),
    CheckConstraint("agent_handle != followed_handle", name="no_self_follow"),
)

run_configs = Table(
    "run_configs",
    metadata,
    _text("run_id"),
    _int("seed"),
    _text("policy"),
    _text("config_json"),
    _text("simlab_version"),
    _text("created_at"),
    PrimaryKeyConstraint("run_id", name="pk_run_configs"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
)

run_failures = Table(
    "run_failures",
    metadata,
    _int("failure_id"),
    _text("run_id"),
    _int("turn_number", nullable=True),
    _text("error"),
    _text("failed_at"),
    PrimaryKeyConstraint("failure_id", name="pk_run_failures"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    Index(None, "run_id"),
)

feed_scores = Table(
    "feed_scores",
    metadata,
    _text("run_id"),
    _int("turn_number"),
    _text("agent_handle"),
    _text("scores"),
    PrimaryKeyConstraint("run_id", "turn_number", "agent_handle", name="pk_feed_scores"),
    ForeignKeyConstraint(
        ["agent_handle", "run_id", "turn_number"],
        ["generated_feeds.agent_handle", "generated_feeds.run_id", "generated_feeds.turn_number"],
        name="fk_feed_scores_generated_feeds",
    ),
    sqlite_with_rowid=False,  # revision 0011_lean_rows
)

# --------------------------------------------------------------------------
# Comparison tables (revision 0003): which runs form one feed comparison.
# --------------------------------------------------------------------------

comparisons = Table(
    "comparisons",
    metadata,
    _text("comparison_id"),
    _text("config_json"),
    _text("created_at"),
    PrimaryKeyConstraint("comparison_id", name="pk_comparisons"),
    Index(None, "created_at"),
)

comparison_runs = Table(
    "comparison_runs",
    metadata,
    _text("comparison_id"),
    _text("run_id"),
    _text("arm"),
    _int("replicate"),
    _int("seed"),
    PrimaryKeyConstraint("comparison_id", "run_id", name="pk_comparison_runs"),
    ForeignKeyConstraint(["comparison_id"], ["comparisons.comparison_id"]),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    UniqueConstraint("comparison_id", "arm", "replicate"),
    CheckConstraint("replicate >= 0", name="replicate_gte_0"),
    Index(None, "run_id"),
)


# --------------------------------------------------------------------------
# Run lifecycle (revision 0004): who is writing a run, and on which population.
# --------------------------------------------------------------------------

run_lifecycle = Table(
    "run_lifecycle",
    metadata,
    _text("run_id"),
    _text("population_fingerprint"),
    _int("pid"),
    _text("host"),
    _text("heartbeat_at"),
    _text("lease_expires_at"),
    _text("released_at", nullable=True),
    PrimaryKeyConstraint("run_id", name="pk_run_lifecycle"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    CheckConstraint("pid > 0", name="pid_gt_0"),
    CheckConstraint("lease_expires_at >= heartbeat_at", name="lease_after_heartbeat"),
)


# --------------------------------------------------------------------------
# Import fidelity tables (revision 0005): what real data carries beyond the
# seed columns (identity history, reply/quote/repost structure, labels,
# languages, facets), label confidences and the record of imported engagement.
# --------------------------------------------------------------------------

account_handles = Table(
    "account_handles",
    metadata,
    _text("did"),
    _text("handle"),
    _text("first_seen_at"),
    _text("last_seen_at"),
    PrimaryKeyConstraint("did", "handle", name="pk_account_handles"),
    Index(None, "handle"),
)

post_details = Table(
    "post_details",
    metadata,
    _text("post_id"),
    _text("author_did", nullable=True),
    _text("cid", nullable=True),
    _text("indexed_at", nullable=True),
    _text("langs", nullable=True),
    _text("reply_parent_uri", nullable=True),
    _text("reply_root_uri", nullable=True),
    _text("quote_uri", nullable=True),
    _text("alt_text", nullable=True),
    _text("text_source"),
    _text("facets_json", nullable=True),
    _int("served"),
    PrimaryKeyConstraint("post_id", name="pk_post_details"),
    ForeignKeyConstraint(["post_id"], ["feed_posts.post_id"]),
    CheckConstraint("text_source IN ('text', 'alt', 'empty')", name="text_source_valid"),
    CheckConstraint("served IN (0, 1)", name="served_bool"),
    Index(None, "author_did"),
    Index(None, "reply_parent_uri"),
)

post_labels = Table(
    "post_labels",
    metadata,
    _text("post_id"),
    _text("src"),
    _text("val"),
    _text("kind"),
    _text("created_at", nullable=True),
    PrimaryKeyConstraint("post_id", "src", "val", name="pk_post_labels"),
    ForeignKeyConstraint(["post_id"], ["feed_posts.post_id"]),
    CheckConstraint("kind IN ('self', 'moderation')", name="kind_valid"),
)

reposts = Table(
    "reposts",
    metadata,
    _text("post_id"),
    _text("reposter_did"),
    _text("reposter_handle"),
    _text("reposted_at"),
    PrimaryKeyConstraint("post_id", "reposter_did", name="pk_reposts"),
    ForeignKeyConstraint(["post_id"], ["feed_posts.post_id"]),
    Index(None, "reposter_handle"),
)

post_inferences = Table(
    "post_inferences",
    metadata,
    _text("post_id"),
    _real("topic_confidence"),
    _real("leaning", nullable=True),
    _real("leaning_confidence"),
    _text("method"),
    PrimaryKeyConstraint("post_id", name="pk_post_inferences"),
    ForeignKeyConstraint(["post_id"], ["feed_posts.post_id"]),
    CheckConstraint("leaning IS NULL OR leaning BETWEEN -1 AND 1", name="leaning_range"),
    CheckConstraint(
        "topic_confidence BETWEEN 0 AND 1 AND leaning_confidence BETWEEN 0 AND 1",
        name="confidence_range",
    ),
)

agent_inferences = Table(
    "agent_inferences",
    metadata,
    _text("agent_id"),
    _real("leaning", nullable=True),
    _real("leaning_confidence"),
    _real("interests_confidence"),
    _int("posts_used"),
    _text("method"),
    PrimaryKeyConstraint("agent_id", name="pk_agent_inferences"),
    ForeignKeyConstraint(["agent_id"], ["agent.agent_id"]),
    CheckConstraint("leaning IS NULL OR leaning BETWEEN -1 AND 1", name="leaning_range"),
    CheckConstraint(
        "leaning_confidence BETWEEN 0 AND 1 AND interests_confidence BETWEEN 0 AND 1",
        name="confidence_range",
    ),
)

imported_engagement = Table(
    "imported_engagement",
    metadata,
    _text("engagement_id"),
    _text("post_id"),
    _text("kind"),
    _text("account_handle"),
    _text("text", nullable=True),
    _text("created_at"),
    PrimaryKeyConstraint("engagement_id", name="pk_imported_engagement"),
    ForeignKeyConstraint(["post_id"], ["feed_posts.post_id"]),
    CheckConstraint("kind IN ('like', 'dislike', 'comment')", name="kind_valid"),
    Index(None, "post_id"),
)


# --------------------------------------------------------------------------
# LLM agent tables (revision 0006_llm): calls, response cache, budgets,
# personas and stance histories.
# --------------------------------------------------------------------------

LLM_CALL_STATUSES = ("ok", "invalid", "retried", "failed", "budget_blocked")

llm_calls = Table(
    "llm_calls",
    metadata,
    _int("call_id"),
    _text("run_id"),
    _int("turn_number"),
    _text("agent_handle"),
    _text("policy"),
    _text("model"),
    _text("base_url"),
    _int("attempt"),
    _int("transport_retries"),
    _int("prompt_tokens"),
    _int("completion_tokens"),
    _int("cached_tokens"),
    _real("latency_ms"),
    _real("cost_usd"),
    _text("status"),
    _int("cache_hit"),
    _text("cache_key", nullable=True),
    _text("error", nullable=True),
    _text("started_at"),
    _text("completed_at"),
    PrimaryKeyConstraint("call_id", name="pk_llm_calls"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in LLM_CALL_STATUSES) + ")", name="status_valid"
    ),
    CheckConstraint("cache_hit IN (0, 1)", name="cache_hit_bool"),
    CheckConstraint("attempt >= 0 AND transport_retries >= 0", name="counts_gte_0"),
    CheckConstraint(
        "prompt_tokens >= 0 AND completion_tokens >= 0 AND cached_tokens >= 0",
        name="tokens_gte_0",
    ),
    Index(None, "run_id", "turn_number", "agent_handle"),
    Index(None, "model"),
)

llm_cache = Table(
    "llm_cache",
    metadata,
    _text("cache_key"),
    _text("model"),
    _text("model_fingerprint"),
    _text("agent_handle"),
    _int("turn_number"),
    _int("sample_index"),
    _int("attempt"),
    _text("request_json"),
    _text("content", nullable=True),
    _text("error", nullable=True),
    _int("prompt_tokens"),
    _int("completion_tokens"),
    _int("cached_tokens"),
    _real("latency_ms"),
    _int("transport_retries"),
    _text("created_at"),
    PrimaryKeyConstraint("cache_key", name="pk_llm_cache"),
    CheckConstraint("(content IS NULL) != (error IS NULL)", name="content_or_error"),
    Index(None, "agent_handle", "turn_number"),
)

budget_events = Table(
    "budget_events",
    metadata,
    _int("event_id"),
    _text("run_id"),
    _int("turn_number"),
    _text("kind"),
    _text("metric"),
    _real("used"),
    _real("limit_value"),
    _text("action"),
    _text("message"),
    _text("created_at"),
    PrimaryKeyConstraint("event_id", name="pk_budget_events"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    CheckConstraint("kind IN ('alert', 'exceeded', 'blocked')", name="kind_valid"),
    CheckConstraint("metric IN ('tokens', 'cost')", name="metric_valid"),
    CheckConstraint("action IN ('warn', 'block')", name="action_valid"),
    Index(None, "run_id"),
)

agent_personas = Table(
    "agent_personas",
    metadata,
    _int("persona_id"),
    _text("agent_id"),
    _text("tone"),
    _text("style"),
    _text("values_json"),
    _text("source"),
    _text("created_at"),
    PrimaryKeyConstraint("persona_id", name="pk_agent_personas"),
    ForeignKeyConstraint(["agent_id"], ["agent.agent_id"]),
    Index(None, "agent_id", "created_at"),
)

agent_stances = Table(
    "agent_stances",
    metadata,
    _int("stance_id"),
    _text("run_id"),
    _int("turn_number"),
    _text("agent_handle"),
    _text("topic"),
    _text("stance"),
    _real("confidence"),
    _real("leaning", nullable=True),
    _text("rationale"),
    _text("status"),
    _text("created_at"),
    PrimaryKeyConstraint("stance_id", name="pk_agent_stances"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    CheckConstraint("turn_number >= 0", name="turn_number_gte_0"),
    CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_range"),
    CheckConstraint("leaning IS NULL OR leaning BETWEEN -1 AND 1", name="leaning_range"),
    CheckConstraint("status IN ('current', 'superseded')", name="status_valid"),
    Index(None, "run_id", "agent_handle", "topic", "turn_number"),
)


# --------------------------------------------------------------------------
# Evaluation tables (revision 0007_evaluations): content scores and per-agent histories.
# Append-only: SQLite triggers (see APPEND_ONLY_TRIGGERS) abort UPDATE and DELETE;
# on PostgreSQL triggers of the same names call simlab_append_only(), which raises.
# --------------------------------------------------------------------------

EVALUATION_TARGETS = ("comments", "agent_posts", "feed_posts")

evaluations = Table(
    "evaluations",
    metadata,
    _int("evaluation_id"),
    _text("evaluator"),
    _text("evaluator_version"),
    _text("target_kind"),
    _text("target_id"),
    _text("run_id", nullable=True),
    _int("turn_number", nullable=True),
    _text("agent_handle", nullable=True),
    _text("status"),
    _text("scores", nullable=True),
    _text("notes", nullable=True),
    _text("model", nullable=True),
    _real("latency_ms", nullable=True),
    _text("created_at"),
    PrimaryKeyConstraint("evaluation_id", name="pk_evaluations"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    # Named explicitly: the conventional name has 64 characters, over PostgreSQL's 63.
    UniqueConstraint(
        "evaluator",
        "evaluator_version",
        "target_kind",
        "target_id",
        name="uq_evaluations_target_version",
    ),
    CheckConstraint(
        "target_kind IN ('comments', 'agent_posts', 'feed_posts')", name="target_kind_valid"
    ),
    CheckConstraint(
        "(status = 'ok' AND scores IS NOT NULL) OR (status = 'failed' AND scores IS NULL)",
        name="status_scores_consistent",
    ),
    Index("idx_evaluations_run_turn_agent", "run_id", "turn_number", "agent_handle"),
)

agent_score_history = Table(
    "agent_score_history",
    metadata,
    _int("history_id"),
    _text("run_id"),
    _int("turn_number"),
    _text("agent_handle"),
    _text("evaluator"),
    _text("evaluator_version"),
    _int("items"),
    _text("dimension_means"),
    _real("overall_mean"),
    _text("top_dimension"),
    _real("top_score"),
    _text("high_flags"),
    _text("created_at"),
    PrimaryKeyConstraint("history_id", name="pk_agent_score_history"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
    CheckConstraint("items > 0", name="items_gt_0"),
    CheckConstraint("turn_number >= 0", name="turn_number_gte_0"),
    Index("idx_agent_score_history_run_evaluator_turn", "run_id", "evaluator", "turn_number"),
)


def append_only_triggers(table: str) -> dict[str, str]:
    """SQLite triggers that abort every UPDATE and DELETE on ``table``, by trigger name.

    Triggers are not part of SQLAlchemy metadata (Alembic's autogenerate does not
    see them); ``tests/test_evaluations_store.py`` compares these statements with
    what revision 0007_evaluations creates.
    """
    return {
        f"trg_{table}_no_{verb.lower()}": (
            f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} is not allowed'); END"
        )
        for verb in ("UPDATE", "DELETE")
    }


APPEND_ONLY_TRIGGERS: dict[str, str] = {
    **append_only_triggers("evaluations"),
    **append_only_triggers("agent_score_history"),
}


# --------------------------------------------------------------------------
# Agent posts (revision 0008_agent_posts): what agents write during a run.
# ``agent_post_id`` is unique across runs (``<run_id>-<turn>-p<n>``, like the
# action ids); ``post_id`` is the id feeds and actions use inside the run
# (``agent-post:<turn>:<n>``), the same in every run of one config, so two runs
# of the same seed have the same rows.
# --------------------------------------------------------------------------

agent_posts = Table(
    "agent_posts",
    metadata,
    _text("agent_post_id"),
    _text("run_id"),
    _int("turn_number"),
    _text("agent_handle"),
    _text("post_id"),
    _text("text"),
    _text("topic"),
    _real("leaning"),
    _text("created_at"),
    *_generation_columns(),
    PrimaryKeyConstraint("agent_post_id", name="pk_agent_posts"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_agent_posts_run_id"),
    UniqueConstraint("run_id", "post_id", name="uq_agent_posts_run_post"),
    CheckConstraint("turn_number >= 0", name="turn_number_gte_0"),
    CheckConstraint("leaning BETWEEN -1 AND 1", name="leaning_range"),
    Index("idx_agent_posts_run_turn_agent", "run_id", "turn_number", "agent_handle"),
)


# --------------------------------------------------------------------------
# Compact rows (revision 0009_compact_rows): fewer bytes per agent-turn.
# ``agent_leaning_changes`` holds every agent's leaning after turn 0 and, from
# turn 1 on, only the leanings that changed; the view ``agent_leanings``
# (run_id, turn_number, agent_handle, leaning) forward-fills it to the full
# panel, one row per agent and recorded turn, as the table of revision 0002
# held it. Rule-based actions store compact metadata and no explanation; the
# views ``likes_explained``, ``comments_explained`` and ``follows_explained``
# expand them (:mod:`simlab.compact_rows`). ``feed_scores.scores`` holds each
# score to 6 significant digits.
# --------------------------------------------------------------------------

agent_leaning_changes = Table(
    "agent_leaning_changes",
    metadata,
    _text("run_id"),
    _text("agent_handle"),
    _int("turn_number"),
    _real("leaning"),
    PrimaryKeyConstraint("run_id", "agent_handle", "turn_number", name="pk_agent_leaning_changes"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_agent_leaning_changes_run_id"),
    CheckConstraint("turn_number >= 0", name="turn_number_gte_0"),
    CheckConstraint("leaning BETWEEN -1 AND 1", name="leaning_range"),
    sqlite_with_rowid=False,
)


# --------------------------------------------------------------------------
# Sweeps (revision 0010_sweeps): a sweep's grid and the state of each cell.
# A cell is one ordinary run (its full config in ``run_configs``); with SQLite
# shards its run rows arrive with ``simlab merge``, so ``sweep_cells.run_id``
# has no foreign key to ``runs``.
# --------------------------------------------------------------------------

SWEEP_CELL_STATUSES = ("pending", "running", "completed", "failed")

sweeps = Table(
    "sweeps",
    metadata,
    _text("sweep_id"),
    _text("config_json"),
    _text("created_at"),
    PrimaryKeyConstraint("sweep_id", name="pk_sweeps"),
    Index(None, "created_at"),
)

sweep_cells = Table(
    "sweep_cells",
    metadata,
    _text("sweep_id"),
    _int("cell"),
    _text("run_id"),
    _text("settings_json"),
    _text("status"),
    _int("attempts"),
    _text("error", nullable=True),
    _text("shard", nullable=True),
    _text("updated_at"),
    PrimaryKeyConstraint("sweep_id", "cell", name="pk_sweep_cells"),
    ForeignKeyConstraint(["sweep_id"], ["sweeps.sweep_id"]),
    UniqueConstraint("run_id"),
    CheckConstraint("cell >= 0", name="cell_gte_0"),
    CheckConstraint("attempts >= 0", name="attempts_gte_0"),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in SWEEP_CELL_STATUSES) + ")", name="status_known"
    ),
)


# --------------------------------------------------------------------------
# Lean rows (revision 0011_lean_rows): fewer bytes per agent-turn, same rows read.
# A compact rule-based like, comment or follow stores ``generation_created_at``
# NULL (it was always the row's ``created_at``) and ``model_used`` NULL when it is
# the run's policy's, which ``run_models`` records once per run; the
# ``*_explained`` views rebuild both (:mod:`simlab.compact_rows`).
# ``feed_scores`` is a WITHOUT ROWID table on SQLite (the primary key is the
# table, no second copy of the key in an index); same columns and key.
# --------------------------------------------------------------------------

run_models = Table(
    "run_models",
    metadata,
    _text("run_id"),
    _text("model_used"),
    PrimaryKeyConstraint("run_id", name="pk_run_models"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_models_run_id"),
)
