"""Import Bluesky API responses saved as JSON files [Bluesky2024] [Atproto2024].

Each file is recognised by its shape (camelCase as the lexicons define it, or
the atproto Python SDK's snake_case dump, see :mod:`simlab.population.bluesky_json`):

- ``app.bsky.actor.getProfile``: an object with ``did`` and ``handle``;
  ``app.bsky.actor.getProfiles``: ``{"profiles": [...]}``. Each profile
  becomes a ``bluesky_profiles`` row and an agent (``agent_id`` = its DID).
- ``app.bsky.feed.getAuthorFeed`` / ``getTimeline``: ``{"feed": [feedViewPost]}``;
  ``app.bsky.feed.getPostThread``: ``{"thread": threadViewPost}`` (the post, its
  ``parent`` chain and its ``replies`` tree; ``notFoundPost`` /
  ``blockedPost`` nodes are skipped).

Every ``postView`` becomes a ``feed_posts`` row (``post_id = "bluesky:" + uri``,
``source = 'bluesky'``, counts from ``likeCount``, ``repostCount``,
``replyCount``, ``quoteCount``, ``bookmarkCount``) written by its author's DID
(:mod:`simlab.population.importing`). Besides:

- a ``feedViewPost`` with ``reason`` ``#reasonRepost`` is a *repost*: the post
  stays its original author's, and a ``reposts`` row records who reposted
  (``reason.by``) and when (``reason.indexedAt``);
- ``feedViewPost.reply`` root and parent ``postView`` s are imported too; the
  record's ``reply.parent.uri`` / ``reply.root.uri`` go to ``post_details``;
- a quote keeps the quoted URI in ``post_details.quote_uri`` and imports the
  quoted ``viewRecord`` when the view embeds it;
- a post with empty text and images gets its alt text as text
  (``text_source = 'alt'``); alt text is always kept in ``post_details``;
- ``record.langs``, facets and labels (view ``labels`` and record self-labels)
  are kept (``post_details``, ``post_labels``).

Required: ``did`` and ``handle`` of a profile; ``uri`` (at://), ``author.did``,
``author.handle``, ``record.text`` (may be empty) and a time of a post:
``record.createdAt``, or ``indexedAt`` when ``createdAt`` is missing or a zero
time (``0001-01-01T00:00:00Z``, see :func:`~simlab.population.importing.utc_timestamp`).
Defaults: ``displayName`` -> the handle, ``description`` -> "", counts -> 0.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from simlab.errors import InputError
from simlab.population import bluesky_json as parts
from simlab.population.bluesky_json import JsonFile, read_json
from simlab.population.importing import Extras, Post, Profile, import_population, utc_timestamp
from simlab.population.writer import OnDuplicate, Summary

_COUNTS = {
    "like_count": "likeCount",
    "repost_count": "repostCount",
    "reply_count": "replyCount",
    "quote_count": "quoteCount",
    "bookmark_count": "bookmarkCount",
}
_PROFILE_COUNTS = {
    "followers_count": "followersCount",
    "follows_count": "followsCount",
    "posts_count": "postsCount",
}


class _Reader:
    """Collects the profiles, posts and extras of the files of one import."""

    def __init__(self) -> None:
        self.profiles: list[Profile] = []
        self.posts: list[Post] = []
        self.extras = Extras()
        self.now = datetime.now(UTC).replace(microsecond=0).isoformat()

    def profile(self, file: JsonFile, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise file.fail(where, "expected an object")
        did = file.get(data, where, "did", str)
        if not did.startswith("did:"):
            raise file.fail(f"{where}.did" if where else "did", f"not a DID: {did!r}")
        handle = file.get(data, where, "handle", str)
        seen = utc_timestamp(str(data.get("indexedAt") or "")) or self.now
        self.extras.sightings.append((did, handle, seen))
        self.profiles.append(
            Profile(
                handle=handle,
                did=did,
                display_name=file.get(data, where, "displayName", str, handle),
                bio=file.get(data, where, "description", str, ""),
                **{col: file.get(data, where, key, int, 0) for col, key in _PROFILE_COUNTS.items()},
            )
        )

    def _author(self, file: JsonFile, obj: dict, where: str) -> tuple[str, str, str]:
        author = file.get(obj, where, "author", dict)
        did = file.get(author, f"{where}.author", "did", str)
        handle = file.get(author, f"{where}.author", "handle", str)
        return did, handle, file.get(author, f"{where}.author", "displayName", str, handle)

    def _time(self, file: JsonFile, record: dict, view: dict, where: str) -> str:
        raw = record.get("createdAt")
        created = utc_timestamp(raw) if isinstance(raw, str) else None
        indexed = view.get("indexedAt")
        created = created or (utc_timestamp(indexed) if isinstance(indexed, str) else None)
        if created is None:
            shown = "missing" if raw is None else f"{json.dumps(raw)} is not a usable time"
            raise file.fail(
                f"{where}.record.createdAt",
                f"{shown} (ISO 8601 after 1970 needed; a zero time counts as missing) and "
                "indexedAt gives none either",
            )
        return created

    def post_view(self, file: JsonFile, view: Any, where: str, record_key: str = "record") -> None:
        """Add a ``postView`` (or an embed ``viewRecord`` with ``record_key='value'``)."""
        if not isinstance(view, dict):
            raise file.fail(where, "expected an object")
        uri = file.get(view, where, "uri", str)
        if not uri.startswith("at://"):
            raise file.fail(f"{where}.uri", f"not an at:// URI: {uri!r}")
        did, handle, display = self._author(file, view, where)
        record = file.get(view, where, record_key, dict)
        kind = record.get("$type", "app.bsky.feed.post")
        if kind != "app.bsky.feed.post":
            raise file.fail(
                f"{where}.{record_key}.$type", f"expected app.bsky.feed.post, got {kind!r}"
            )
        text = file.get(record, f"{where}.{record_key}", "text", str, "")
        if "text" not in record:
            raise file.fail(f"{where}.{record_key}.text", "missing")
        created = self._time(file, record, view, where)
        view_embed = view.get("embed") or next(iter(view.get("embeds") or []), None)
        alts = parts.alt_texts(record.get("embed"), view_embed)
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        langs = record.get("langs")
        found_facets = parts.facets(record)
        details = {
            "cid": view.get("cid"),
            "indexed_at": utc_timestamp(str(view.get("indexedAt") or "")),
            "langs": json.dumps(langs) if isinstance(langs, list) else None,
            "reply_parent_uri": (reply.get("parent") or {}).get("uri"),
            "reply_root_uri": (reply.get("root") or {}).get("uri"),
            "quote_uri": parts.quoted_uri(record.get("embed")),
            "alt_text": "\n".join(alts) or None,
            "text_source": "text" if text.strip() else ("alt" if alts else "empty"),
            "facets_json": json.dumps(found_facets) if found_facets else None,
        }
        self.extras.sightings.append((did, handle, details["indexed_at"] or created))
        self.posts.append(
            Post(
                post_id=f"bluesky:{uri}",
                source="bluesky",
                uri=uri,
                author_handle=handle,
                author_display_name=display,
                text=text if text.strip() else " ".join(alts),
                created_at=created,
                counts={col: file.get(view, where, key, int, 0) for col, key in _COUNTS.items()},
                author_did=did,
                details=details,
                labels=parts.labels(view, record, did, created),
            )
        )
        quoted = parts.quoted_view(view_embed)
        if quoted is not None:
            self.post_view(file, quoted, f"{where}.embed.record", record_key="value")

    def feed_item(self, file: JsonFile, item: Any, where: str) -> None:
        if not isinstance(item, dict):
            raise file.fail(where, "expected an object")
        post = file.get(item, where, "post", dict)
        self.post_view(file, post, f"{where}.post")
        reply = item.get("reply")
        for part in ("root", "parent"):
            node = reply.get(part) if isinstance(reply, dict) else None
            if isinstance(node, dict) and "record" in node:  # a postView, not notFound/blocked
                self.post_view(file, node, f"{where}.reply.{part}")
        reason = item.get("reason")
        if isinstance(reason, dict) and "reasonRepost" in str(reason.get("$type", "reasonRepost")):
            by = file.get(reason, f"{where}.reason", "by", dict)
            did = file.get(by, f"{where}.reason.by", "did", str)
            handle = file.get(by, f"{where}.reason.by", "handle", str)
            at = utc_timestamp(file.get(reason, f"{where}.reason", "indexedAt", str))
            if at is None:
                raise file.fail(f"{where}.reason.indexedAt", "not an ISO 8601 time after 1970")
            self.extras.sightings.append((did, handle, at))
            self.extras.reposts.append({"post_id": f"bluesky:{post['uri']}", "reposter_did": did,
                                        "reposter_handle": handle, "reposted_at": at})  # fmt: skip

    def thread(self, file: JsonFile, node: Any, where: str) -> None:
        if not isinstance(node, dict) or "post" not in node:
            return  # notFoundPost / blockedPost
        self.post_view(file, node["post"], f"{where}.post")
        self.thread(file, node.get("parent"), f"{where}.parent")
        for i, child in enumerate(node.get("replies") or []):
            self.thread(file, child, f"{where}.replies[{i}]")

    def read(self, path: str | os.PathLike) -> None:
        """Add one saved API response (shapes: module docstring).

        Raises:
            InputError: naming the file, the record and the field that is wrong.
        """
        file, data = read_json(path)
        if "feed" in data:
            for i, item in enumerate(file.get(data, "", "feed", list)):
                self.feed_item(file, item, f"feed[{i}]")
        elif "thread" in data:
            self.thread(file, file.get(data, "", "thread", dict), "thread")
        elif "profiles" in data:
            for i, p in enumerate(file.get(data, "", "profiles", list)):
                self.profile(file, p, f"profiles[{i}]")
        elif "did" in data or "handle" in data:
            self.profile(file, data, "")
        else:
            raise file.fail(
                "",
                "not a getProfile, getProfiles, getAuthorFeed, getTimeline or getPostThread "
                "response (no did, profiles, feed or thread)",
            )


def parse_file(path: str | os.PathLike) -> tuple[list[Profile], list[Post]]:
    """The profiles and posts of one saved API response (shapes: module docstring)."""
    reader = _Reader()
    reader.read(path)
    return reader.profiles, reader.posts


def import_bluesky(
    engine: Engine,
    paths: Iterable[str | os.PathLike],
    on_duplicate: OnDuplicate = "skip",
    labels: str = "exclude",
) -> Summary:
    """Import saved Bluesky API responses, all or nothing.

    Args:
        engine: a database migrated to head.
        paths: JSON files (shapes: module docstring).
        on_duplicate: rows seen before: 'error', 'skip' (default) or 'update'.
        labels: 'exclude' (default) keeps posts with hiding labels out of feeds; 'serve'.

    Raises:
        InputError: no files, a bad file (naming file, record and field) or a
            refused clash; nothing is written.
    """
    names = [os.fspath(p) for p in paths]
    if not names:
        raise InputError(
            "import: no files given; pass getProfile / getAuthorFeed / getPostThread JSON files"
        )
    reader = _Reader()
    for name in names:
        reader.read(name)
    config = {"files": names, "labeller": "simlab.population.labels", "labels": labels,
              "on_duplicate": on_duplicate}  # fmt: skip
    return import_population(
        engine, reader.profiles, reader.posts, "bluesky", config,
        extras=reader.extras, on_duplicate=on_duplicate, labels=labels,
    )  # fmt: skip
