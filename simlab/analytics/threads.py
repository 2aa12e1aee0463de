"""Conversations and decisions: one agent's feed with the reasons behind each action, and threads.

:func:`explained_feed` is :func:`~simlab.analytics.agent_feed` with, per item,
what the agent did and the policy's recorded explanation and probability
(``generation_metadata_json``'s ``p`` and ``draw`` for the rule-based policy).

:func:`thread_comments` lists every comment of a run under its post in turn
order, with a stance: ``with`` when commenter and post lean to the same side
(both beyond ±1/3 on the [-1, 1] scale), ``against`` when to opposite sides,
``neutral`` otherwise; the commenter's leaning is the one recorded after the
comment's turn (``agent_leanings``).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from simlab.analytics._query import fetch
from simlab.analytics.agents import agent_feed
from simlab.analytics.groups import LEANING_CUT
from simlab.compact_rows import expanded_columns
from simlab.errors import InputError

STANCES = ("with", "against", "neutral")
DECISION_ACTIONS = {"like": "post_id", "comment": "post_id", "follow": "user_id"}


def most_active_agent(activity: pd.DataFrame) -> str | None:
    """The handle with the most actions (likes + comments + follows), then feeds, then by handle.

    Args:
        activity: :func:`simlab.analytics.agent_activity` of one run.
    """
    if activity.empty:
        return None
    ranked = activity.assign(
        acted=activity[["likes", "comments", "follows"]].sum(axis=1)
    ).sort_values(["acted", "feeds", "agent_handle"], ascending=[False, False, True])
    return str(ranked["agent_handle"].iloc[0])


def turn_with_actions(
    con: duckdb.DuckDBPyConnection, *, run_id: str, agent_handle: str | None, served: list[int]
) -> int:
    """The last of the ``served`` turns in which the agent acted (else the last served turn)."""
    acted = con.execute(
        " UNION ".join(
            f"SELECT turn_number FROM sim.{action}s WHERE run_id = $r AND agent_handle = $a"
            for action in DECISION_ACTIONS
        ),
        {"r": run_id, "a": agent_handle},
    ).fetchall()
    busy = sorted({int(t) for (t,) in acted} & set(served))
    return busy[-1] if busy else served[-1]


def explained_feed(
    con: duckdb.DuckDBPyConnection, *, run_id: str, turn: int, agent_handle: str
) -> pd.DataFrame:
    """One agent's feed in one turn, each item with what the agent did and why.

    Returns:
        Columns rank, author_handle, text, score (4 decimals), did (e.g. ``like,
        comment``; empty for none), explanation (the recorded reasons, one per
        action), p (each action's recorded probability, if any), then the other
        columns of ``agent_feed`` (post_id, topic, post_leaning, liked, commented,
        followed_author); empty if the agent was not served a feed that turn.
    """
    feed = agent_feed(con, run_id=run_id, turn=turn, agent_handle=agent_handle)
    if feed.empty:
        return feed.assign(did="", explanation="", p="")
    decisions = fetch(
        con,
        " UNION ALL ".join(
            f"SELECT '{action}' AS action, {target} AS target, {why} AS explanation, "
            f"TRY_CAST(json_extract({meta}, '$.p') AS DOUBLE) AS p "
            f"FROM sim.{action}s WHERE run_id = $r AND turn_number = $t AND agent_handle = $a"
            for action, target in DECISION_ACTIONS.items()
            for why, meta in [
                expanded_columns(action, "duckdb", "explanation", "generation_metadata_json")
            ]
        ),
        {"r": run_id, "t": int(turn), "a": agent_handle},
    )
    by_post = {}
    for row in decisions.itertuples(index=False):
        posts = feed.loc[
            (feed["post_id"] == row.target)
            if row.action != "follow"
            else (feed["author_handle"] == row.target),
            "post_id",
        ]
        for post in posts.head(1):  # a follow is explained at the author's first item
            by_post.setdefault(post, []).append(row)
    did, why, chance = [], [], []
    for post in feed["post_id"]:
        rows = by_post.get(post, [])
        did.append(", ".join(r.action for r in rows))
        why.append(" | ".join(str(r.explanation or "") for r in rows))
        chance.append(", ".join(f"{r.action} {r.p:.3f}" for r in rows if pd.notna(r.p)))
    explained = feed.assign(score=feed["score"].round(4), did=did, explanation=why, p=chance)
    first = ["rank", "author_handle", "text", "score", "did", "explanation", "p"]
    return explained[first + [c for c in explained.columns if c not in first]]


def thread_comments(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    turns: tuple[int, int] | None = None,
    agent_handle: str | None = None,
    post_id: str | None = None,
    stance: str | None = None,
) -> pd.DataFrame:
    """Every comment of a run (filtered) under its post, in turn order.

    Args:
        con: from :func:`simlab.analytics.connect`.
        run_id: the run.
        turns: (first, last) turns to keep, inclusive; None keeps all.
        agent_handle: keep comments by this agent.
        post_id: keep comments on this post.
        stance: keep ``with``, ``against`` or ``neutral`` comments (see the module).

    Returns:
        Columns post_id, post_author, post_text, post_leaning, turn_number,
        agent_handle, text, commenter_leaning, stance, explanation; by post (its first
        comment's turn), then turn and agent.
    """
    if stance is not None and stance not in STANCES:
        raise InputError(f"stance: unknown stance {stance!r}; choose from {', '.join(STANCES)}")
    low, high = turns if turns is not None else (None, None)
    return fetch(con, _THREADS, {
        "run_id": run_id, "low": low, "high": high, "agent": agent_handle, "post": post_id,
        "stance": stance, "cut": LEANING_CUT,
    })  # fmt: skip


_COMMENT_EXPLANATION = expanded_columns(
    "comment", "duckdb", "c.explanation", "c.generation_metadata_json"
)[0]

_THREADS = f"""
    WITH picked AS (
        SELECT c.post_id, c.turn_number, c.agent_handle, c.text,
               {_COMMENT_EXPLANATION} AS explanation
        FROM sim.comments AS c
        WHERE c.run_id = $run_id
          AND ($low IS NULL OR c.turn_number >= $low) AND ($high IS NULL OR c.turn_number <= $high)
          AND ($agent IS NULL OR c.agent_handle = $agent) AND ($post IS NULL OR c.post_id = $post)
    ),
    posts AS (
        SELECT post_id, author_handle, text, leaning FROM posts WHERE run_id = $run_id
    ),
    placed AS (
        SELECT k.*, p.author_handle AS post_author, p.text AS post_text,
               p.leaning AS post_leaning, l.leaning AS commenter_leaning,
               CASE WHEN abs(p.leaning) <= $cut OR abs(l.leaning) <= $cut
                         OR p.leaning IS NULL OR l.leaning IS NULL THEN 'neutral'
                    WHEN sign(p.leaning) = sign(l.leaning) THEN 'with' ELSE 'against' END
                   AS stance
        FROM picked AS k
        LEFT JOIN posts AS p ON p.post_id = k.post_id
        LEFT JOIN agent_leanings AS l ON l.run_id = $run_id
             AND l.turn_number = k.turn_number AND l.agent_handle = k.agent_handle
    )
    SELECT post_id, post_author, post_text, post_leaning, turn_number, agent_handle, text,
           commenter_leaning, stance, explanation
    FROM placed
    WHERE $stance IS NULL OR stance = $stance
    ORDER BY min(turn_number) OVER (PARTITION BY post_id), post_id, turn_number, agent_handle
"""


def thread_markdown(threads: pd.DataFrame, *, posts: int = 10) -> str:
    """Markdown of the first ``posts`` threads of :func:`thread_comments`: post, then its comments."""
    if threads.empty:
        return "No comments match these filters."
    parts = []
    for post_id, thread in list(threads.groupby("post_id", sort=False))[:posts]:
        first = thread.iloc[0]
        parts.append(f"**{first.post_author or '?'}** (post `{post_id}`): {first.post_text or ''}")
        parts += [
            f"> turn {row.turn_number}, **{row.agent_handle}** ({row.stance}): {row.text}"
            for row in thread.itertuples(index=False)
        ]
        parts.append("")
    shown = threads["post_id"].nunique()
    more = f"\n\n*{shown - posts} more threads: narrow the filters.*" if shown > posts else ""
    return "\n\n".join(parts) + more
