"""What every importer shares: profiles and posts in, labelled agents out.

An importer parses its input into :class:`Profile` and :class:`Post` records
(plus :class:`Extras`: handle sightings, reposts, imported engagement, follows)
and calls :func:`import_population`, which

- resolves identity by DID: a post whose author DID is an agent's (stored or
  imported now) is written under that agent's handle, whatever handle the post
  carried; every (DID, handle) seen is kept in ``account_handles``. An agent
  keeps the handle it was first imported with (feeds and follows of earlier
  runs refer to it), and so does an outside account already stored; a new
  profile gives a new account its current handle;
- labels every post with :func:`simlab.population.labels.label_post`
  (``post_annotations`` with ``label_source = 'inferred'`` and the topic
  confidence; ``post_inferences`` with the leaning, NULL when unknown, and its
  confidence); a post whose ``langs`` name no English gets an unknown leaning,
  since the leaning cues are English;
- infers each agent's leaning and interests from its own posts (stored and
  new) and bio (:mod:`simlab.population.inference`);
- marks posts with a hiding moderation label (:data:`HIDING_LABELS`) as not
  served (``post_details.served = 0``) when ``labels='exclude'`` (the default),
  so the simulation never puts them in a feed, as the Bluesky app hides them;
- writes everything through :func:`simlab.population.writer.write_population`
  with the ``on_duplicate`` policy for rows seen before.

An agent's persona bio is, in order of preference: a generated bio supplied by
the importer (``persona_bio_source = 'agent_bios'``), the profile's
description (``'bluesky'``), or a bio written from the inferred traits
(``'inferred'``). Within one import the first occurrence of a profile (by DID)
or a post (by post id) wins.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import text as sql
from sqlalchemy.engine import Connection, Engine

from simlab.errors import InputError
from simlab.population.inference import infer_agent
from simlab.population.labels import METHOD, PostLabel, label_post
from simlab.population.persona import persona_bio
from simlab.population.writer import OnDuplicate, Rows, Summary, write_population

COUNT_FIELDS = ("like_count", "repost_count", "reply_count", "quote_count", "bookmark_count")
HIDING_LABELS = frozenset(
    {"!hide", "!warn", "porn", "sexual", "nudity", "graphic-media", "gore", "nsfl"}
)
"""Label values the Bluesky app hides or blurs by default [Atproto2024]."""
LABEL_MODES = ("serve", "exclude")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""Timestamps before this (e.g. Go's zero time ``0001-01-01T00:00:00Z``) mean *missing*."""


@dataclass(frozen=True)
class Profile:
    """One account to become an agent (a row of ``bluesky_profiles``)."""

    handle: str
    did: str
    display_name: str
    bio: str
    followers_count: int = 0
    follows_count: int = 0
    posts_count: int = 0


@dataclass(frozen=True)
class Post:
    """One post (a row of ``feed_posts``); ``counts`` maps :data:`COUNT_FIELDS` to ints.

    ``details`` holds ``post_details`` columns (but ``post_id`` and ``served``),
    ``labels`` ``post_labels`` rows (but ``post_id``).
    """

    post_id: str
    source: str
    uri: str
    author_handle: str
    author_display_name: str
    text: str
    created_at: str
    counts: dict[str, int]
    author_did: str | None = None
    details: dict[str, Any] | None = None
    labels: tuple[dict[str, Any], ...] = ()


@dataclass
class Extras:
    """What an import carries besides profiles and posts."""

    sightings: list[tuple[str, str, str]] = field(default_factory=list)  # (did, handle, at)
    reposts: list[dict[str, Any]] = field(default_factory=list)  # reposts rows
    engagement: list[dict[str, Any]] = field(default_factory=list)  # imported_engagement rows
    follows: list[dict[str, Any]] = field(default_factory=list)  # initial_follows rows


def utc_timestamp(value: str) -> str | None:
    """``value`` as ISO 8601 UTC with ``+00:00`` (naive read as UTC), or None if unparseable.

    A time before 1970 (such as ``0001-01-01T00:00:00Z``, a zero value) is None: missing.

    >>> utc_timestamp("2025-10-02T09:30:00+02:00"), utc_timestamp("0001-01-01T00:00:00Z")
    ('2025-10-02T07:30:00+00:00', None)
    """
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment < EARLIEST:
        return None
    return moment.astimezone(UTC).isoformat()


def _label(post: Post) -> PostLabel:
    """The post's label; a post whose ``langs`` exclude English gets an unknown leaning."""
    label = label_post(post.text)
    langs = json.loads((post.details or {}).get("langs") or "null")
    if langs and not any(str(lang).lower().startswith("en") for lang in langs):
        return label._replace(leaning=None, leaning_confidence=0.0)  # the cues are English
    return label


def _unique(items: list, key: str) -> list:
    seen: set = set()
    kept = []
    for item in items:
        if getattr(item, key) not in seen:
            kept.append(item)
            seen.add(getattr(item, key))
    return kept


def _canonical_handles(connection: Connection, profiles, posts, extras: Extras) -> dict[str, str]:
    """DID -> the handle its rows are written under (module docstring)."""
    latest: dict[str, tuple[str, str]] = {}
    for did, handle, at in extras.sightings:
        if did not in latest or at >= latest[did][1]:
            latest[did] = (handle, at)
    canonical = {did: handle for did, (handle, _) in latest.items()}
    outsiders = connection.execute(
        sql("SELECT DISTINCT d.author_did, p.author_handle FROM post_details d "
            "JOIN feed_posts p ON p.post_id = d.post_id WHERE d.author_did IS NOT NULL")
    ).all()  # fmt: skip
    canonical.update({p.did: p.handle for p in profiles})
    canonical.update({row[0]: row[1] for row in outsiders})
    canonical.update(dict(connection.execute(sql("SELECT agent_id, handle FROM agent")).all()))
    return canonical


def _stored_texts(connection: Connection, handles: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(post_id, text) of the posts already stored under each handle."""
    texts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for handle in handles:
        rows = connection.execute(
            sql("SELECT post_id, text FROM feed_posts WHERE author_handle = :h"), {"h": handle}
        )
        texts[handle] += [(row[0], row[1]) for row in rows]
    return texts


def _agent_rows(
    profile: Profile, labels: list[PostLabel], bio: str | None, stamp: str, source: str
) -> dict:
    """One row per table for the agent made from ``profile`` (persona source: 'oasis' or 'bluesky')."""
    origin = "oasis" if source == "oasis" else "bluesky"
    own_bio = bio if bio is not None else profile.bio
    traits, inference = infer_agent(labels, label_post(own_bio) if own_bio.strip() else None)
    if bio is not None:
        bio_source = "agent_bios"
    elif profile.bio.strip():
        bio, bio_source = profile.bio, origin
    else:
        interests = traits["interests"]
        top = sorted((k for k in interests if interests[k] > min(interests.values())),
                     key=lambda k: -interests[k])  # fmt: skip
        bio = persona_bio(top, inference["leaning"], traits["activity_rate"])
        bio_source = "inferred"
    did, stamps = profile.did, {"created_at": stamp, "updated_at": stamp}
    counts = {
        key: getattr(profile, key) for key in ("followers_count", "follows_count", "posts_count")
    }
    return {
        "agent": {"agent_id": did, "handle": profile.handle, "persona_source": origin,
                  "display_name": profile.display_name, **stamps},
        "agent_persona_bios": {"id": f"{did}#persona", "agent_id": did, "persona_bio": bio,
                               "persona_bio_source": bio_source, **stamps},
        "user_agent_profile_metadata": {"id": f"{did}#profile", "agent_id": did, **counts, **stamps},
        "agent_traits": {"agent_id": did, **traits, "interests": json.dumps(traits["interests"])},
        "agent_inferences": {"agent_id": did, **inference},
        "bluesky_profiles": asdict(profile),
    }  # fmt: skip


def _post_rows(post: Post, label: PostLabel, labels_mode: str) -> dict[str, list[dict]]:
    hidden = labels_mode == "exclude" and any(lb["val"] in HIDING_LABELS for lb in post.labels)
    details = post.details or {"text_source": "text" if post.text.strip() else "empty"}
    base = {k: v for k, v in asdict(post).items() if k in _FEED_POST_COLUMNS}
    return {
        "feed_posts": [{**base, **post.counts}],
        "post_annotations": [{"post_id": post.post_id, "topic": label.topic,
                              "leaning": label.leaning or 0.0, "label_source": "inferred",
                              "label_confidence": label.topic_confidence}],
        "post_inferences": [{"post_id": post.post_id, "topic_confidence": label.topic_confidence,
                             "leaning": label.leaning, "leaning_confidence": label.leaning_confidence,
                             "method": METHOD}],
        "post_details": [{"post_id": post.post_id, "author_did": post.author_did, **details,
                          "served": 0 if hidden else 1}],
        "post_labels": [{"post_id": post.post_id, **lb} for lb in post.labels],
    }  # fmt: skip


_FEED_POST_COLUMNS = ("post_id", "source", "uri", "author_handle", "author_display_name", "text",
                      "created_at")  # fmt: skip


def _handle_rows(extras: Extras) -> list[dict]:
    spans: dict[tuple[str, str], list[str]] = {}
    for did, handle, at in extras.sightings:
        span = spans.setdefault((did, handle), [at, at])
        span[0], span[1] = min(span[0], at), max(span[1], at)
    return [
        {"did": did, "handle": handle, "first_seen_at": a, "last_seen_at": b}
        for (did, handle), (a, b) in sorted(spans.items())
    ]


def import_population(
    engine: Engine,
    profiles: list[Profile],
    posts: list[Post],
    source: str,
    config: dict[str, Any],
    generated_bios: Sequence[dict[str, str]] = (),
    extras: Extras | None = None,
    on_duplicate: OnDuplicate = "skip",
    labels: Literal["serve", "exclude"] = "exclude",
) -> Summary:
    """Resolve identities, label posts, build agents and write it all in one transaction.

    Args:
        engine: a database migrated to head.
        profiles: accounts that become agents (repeats skipped).
        posts: posts by agents or by outside accounts (repeats skipped).
        source: ``populations.source`` ('bluesky', 'sqlite' or 'oasis').
        config: stored as ``populations.config_json``.
        generated_bios: ``agent_bios`` rows to copy; their ``generated_bio`` becomes the
            persona bio of the agent with that handle.
        extras: handle sightings, reposts, imported engagement and follows.
        on_duplicate: rows seen before: 'error', 'skip' or 'update'
            (:mod:`simlab.population.writer`).
        labels: 'exclude' marks posts with a hiding label as not served; 'serve' serves them.

    Raises:
        InputError: a bad option or a refused clash (nothing is written).
    """
    if labels not in LABEL_MODES:
        raise InputError(f"--labels: {labels!r} is not one of {', '.join(LABEL_MODES)}")
    extras = extras or Extras()
    profiles, posts = _unique(profiles, "did"), _unique(posts, "post_id")
    with engine.connect() as connection:
        canonical = _canonical_handles(connection, profiles, posts, extras)
        profiles = [
            Profile(**{**asdict(p), "handle": canonical.get(p.did, p.handle)}) for p in profiles
        ]
        stored = _stored_texts(connection, [p.handle for p in profiles])
    posts = [
        Post(**{**asdict(p), "author_handle": canonical.get(p.author_did, p.author_handle)})
        for p in posts
    ]
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    post_labels = [_label(post) for post in posts]
    by_author: dict[str, list[PostLabel]] = defaultdict(list)
    new_ids = {post.post_id for post in posts}
    for post, label in zip(posts, post_labels, strict=True):
        by_author[post.author_handle].append(label)
    bios = {row["handle"]: row["generated_bio"] for row in generated_bios}
    rows: Rows = defaultdict(list)
    for profile in profiles:
        old = [t for post_id, t in stored.get(profile.handle, []) if post_id not in new_ids]
        own = by_author[profile.handle] + [label_post(t) for t in old]
        for table, row in _agent_rows(
            profile, own, bios.get(profile.handle), stamp, source
        ).items():
            rows[table].append(row)
    rows["agent_bios"] = list(generated_bios)
    for post, label in zip(posts, post_labels, strict=True):
        for table, new in _post_rows(post, label, labels).items():
            rows[table] += new
    rows["account_handles"] = _handle_rows(extras)
    rows["reposts"] = [
        {**r, "reposter_handle": canonical.get(r["reposter_did"], r["reposter_handle"])}
        for r in extras.reposts
    ]
    rows["imported_engagement"] = list(extras.engagement)
    rows["initial_follows"] = list(extras.follows)
    hidden = sum(1 for row in rows["post_details"] if not row["served"])
    extra = {"reposts": len(rows["reposts"]), "labelled posts not served": hidden}
    return write_population(
        engine, dict(rows), source, config, stamp, "import", on_duplicate, extra
    )
