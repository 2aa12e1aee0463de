"""What the Bluesky and SQLite importers share: profiles and posts in, labelled agents out.

An importer parses its input into :class:`Profile` and :class:`Post` records
and calls :func:`import_population`, which labels every post with
:func:`simlab.population.labels.label_text` (``label_source = 'inferred'``),
makes one agent per profile (``agent_id`` = the profile's DID) and writes
everything through :func:`simlab.population.writer.write_population`.

An imported agent's traits:

- ``interests[k] = (n_k + INTEREST_SMOOTHING) / (n + K * INTEREST_SMOOTHING)`` over all
  topics, where ``n_k`` counts the agent's own posts labelled ``k`` with
  confidence > 0 (so without posts: uniform interests);
- ``leaning`` = the mean label leaning of its own posts (0 without posts);
- activity and propensities: :data:`simlab.population.traits.TRAIT_MEANS`, the means of the synthetic
  generator's Beta distributions, since public profiles do not reveal them.

Its persona bio is, in order of preference: a generated bio supplied by the
importer (``persona_bio_source = 'agent_bios'``), the profile's description
(``'bluesky'``), or a bio written from the inferred traits (``'inferred'``).
Its ``user_agent_profile_metadata`` counts are the profile's. Imports write no
initial follows: the API responses they read hold no follow graph.

Within one import the first occurrence of a profile (by handle or DID) or a
post (by post id) wins and later repeats are skipped. ``created_at`` of posts
is normalised to ISO 8601 UTC (``+00:00``); a timestamp without a zone is
read as UTC.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from simlab.population.labels import Label, label_text
from simlab.population.persona import persona_bio
from simlab.population.topics import TOPIC_NAMES
from simlab.population.traits import TRAIT_MEANS
from simlab.population.writer import Rows, Summary, records, write_population

INTEREST_SMOOTHING = 0.5
"""Pseudo-posts per topic added to an imported agent's topic counts."""
COUNT_FIELDS = ("like_count", "repost_count", "reply_count", "quote_count", "bookmark_count")


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
    """One post (a row of ``feed_posts``); ``counts`` maps :data:`COUNT_FIELDS` to ints."""

    post_id: str
    source: str
    uri: str
    author_handle: str
    author_display_name: str
    text: str
    created_at: str
    counts: dict[str, int]


def utc_timestamp(value: str) -> str | None:
    """``value`` as ISO 8601 UTC with ``+00:00`` (naive read as UTC), or None if unparseable."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def infer_traits(labels: list[Label]) -> dict[str, Any]:
    """An imported agent's traits from the labels of its own posts (module docstring)."""
    counts = dict.fromkeys(TOPIC_NAMES, 0)
    for label in labels:
        if label.confidence > 0:
            counts[label.topic] += 1
    total = sum(counts.values()) + len(TOPIC_NAMES) * INTEREST_SMOOTHING
    interests = {name: round((n + INTEREST_SMOOTHING) / total, 6) for name, n in counts.items()}
    leaning = sum(label.leaning for label in labels) / len(labels) if labels else 0.0
    return {"leaning": round(leaning, 6), "interests": interests, **TRAIT_MEANS}


def _unique(items: list, *keys) -> list:
    seen: set = set()
    kept = []
    for item in items:
        ids = [(key, getattr(item, key)) for key in keys]
        if not seen.intersection(ids):
            kept.append(item)
        seen.update(ids)
    return kept


def _agent_rows(profile: Profile, labels: list[Label], bio: str | None, stamp: str) -> dict:
    """One row per table for the agent made from ``profile``."""
    traits = infer_traits(labels)
    if bio is not None:
        bio_source = "agent_bios"
    elif profile.bio.strip():
        bio, bio_source = profile.bio, "bluesky"
    else:
        interests = traits["interests"]
        top = sorted((k for k in interests if interests[k] > min(interests.values())),
                     key=lambda k: -interests[k])  # fmt: skip
        bio, bio_source = persona_bio(top, traits["leaning"], traits["activity_rate"]), "inferred"
    did, stamps = profile.did, {"created_at": stamp, "updated_at": stamp}
    counts = {
        key: getattr(profile, key) for key in ("followers_count", "follows_count", "posts_count")
    }
    return {
        "agent": {"agent_id": did, "handle": profile.handle, "persona_source": "bluesky",
                  "display_name": profile.display_name, **stamps},
        "agent_persona_bios": {"id": f"{did}#persona", "agent_id": did, "persona_bio": bio,
                               "persona_bio_source": bio_source, **stamps},
        "user_agent_profile_metadata": {"id": f"{did}#profile", "agent_id": did, **counts, **stamps},
        "agent_traits": {"agent_id": did, **traits, "interests": json.dumps(traits["interests"])},
        "bluesky_profiles": asdict(profile),
    }  # fmt: skip


def import_population(
    engine: Engine,
    profiles: list[Profile],
    posts: list[Post],
    source: str,
    config: dict[str, Any],
    generated_bios: Sequence[dict[str, str]] = (),
) -> Summary:
    """Label posts, build agents from profiles and write it all in one transaction.

    Args:
        engine: a database migrated to head.
        profiles: accounts that become agents (repeats skipped).
        posts: posts by agents or by outside accounts (repeats skipped).
        source: ``populations.source`` ('bluesky' or 'sqlite').
        config: stored as ``populations.config_json``.
        generated_bios: ``agent_bios`` rows to copy; their ``generated_bio`` becomes the
            persona bio of the agent with that handle.

    Raises:
        InputError: a row is already in the database (nothing is written).
    """
    profiles = _unique(profiles, "handle", "did")
    posts = _unique(posts, "post_id")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    labels = [label_text(post.text) for post in posts]
    by_author: dict[str, list[Label]] = defaultdict(list)
    for post, label in zip(posts, labels, strict=True):
        by_author[post.author_handle].append(label)
    bios = {row["handle"]: row["generated_bio"] for row in generated_bios}
    rows: Rows = defaultdict(list)
    for profile in profiles:
        new = _agent_rows(profile, by_author[profile.handle], bios.get(profile.handle), stamp)
        for table, row in new.items():
            rows[table].append(row)
    rows["agent_bios"] = list(generated_bios)
    rows["feed_posts"] = [
        {**{k: v for k, v in asdict(post).items() if k != "counts"}, **post.counts}
        for post in posts
    ]
    rows["post_annotations"] = records(
        post_id=[post.post_id for post in posts],
        topic=[label.topic for label in labels],
        leaning=[label.leaning for label in labels],
        label_source="inferred",
        label_confidence=[label.confidence for label in labels],
    )
    return write_population(engine, dict(rows), source, config, stamp, "import")
