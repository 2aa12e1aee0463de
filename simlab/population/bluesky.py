"""Import Bluesky API responses saved as JSON files [Bluesky2024].

Each file is recognised by its shape:

- ``app.bsky.actor.getProfile``: an object with ``did`` and ``handle``;
  ``app.bsky.actor.getProfiles``: an object with a ``profiles`` list of those.
  Each profile becomes a ``bluesky_profiles`` row and an agent.
- ``app.bsky.feed.getAuthorFeed``: an object with a ``feed`` list of
  ``{"post": {...}}`` items. Each ``post`` becomes a ``feed_posts`` row with
  ``post_id = "bluesky:" + uri`` and ``source = 'bluesky'``, written by
  ``post.author`` (an agent if a profile of that handle is imported with it,
  else an outside account). Reposts in a feed are imported as posts of their
  original author; reply context (``reply``, ``reason``) is ignored.

Required: ``did`` (a DID) and ``handle`` of a profile; ``uri`` (an at:// URI),
``author.handle``, ``record.text`` (may be empty) and ``record.createdAt``
(ISO 8601) of a post. Defaults for missing optional fields: ``displayName`` ->
the handle, ``description`` -> "", every count (``followersCount``,
``likeCount``, ``bookmarkCount``, ...) -> 0. Labels, traits, repeats and
re-imports: :mod:`simlab.population.importing`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from simlab.errors import InputError
from simlab.limits import MAX_COUNT
from simlab.population.importing import Post, Profile, import_population, utc_timestamp
from simlab.population.writer import Summary

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
_REQUIRED = object()


class _File:
    """One input file: reads fields and names the file and field path in errors."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, problem: str) -> InputError:
        location = f"{where}: " if where else ""
        return InputError(f"import: {self.name}: {location}{problem}")

    def get(self, obj: dict, where: str, key: str, kind: type, default: Any = _REQUIRED) -> Any:
        path = f"{where}.{key}" if where else key
        value = obj.get(key)
        if value is None or (kind is str and default is not _REQUIRED and value == ""):
            if default is _REQUIRED:
                raise self.fail(path, "missing")
            return default
        if kind is int:
            valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            if valid and value > MAX_COUNT:
                raise self.fail(path, f"above the largest count accepted, {MAX_COUNT:.0e}")
        else:
            valid = isinstance(value, kind)
        if not valid:
            expected = {int: "a non-negative integer", str: "a string", dict: "an object"}
            shown = json.dumps(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise self.fail(path, f"expected {expected.get(kind, 'a list')}, got {shown}")
        return value


def _read(path: str | os.PathLike) -> tuple[_File, dict]:
    file = _File(os.fspath(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise file.fail("", "no such file") from None
    except IsADirectoryError:
        raise file.fail("", "is a directory, not a JSON file") from None
    except UnicodeDecodeError:
        raise file.fail("", "not valid JSON (not UTF-8 text)") from None
    except OSError as exc:
        raise file.fail("", f"cannot read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        raise file.fail("", problem) from None
    except RecursionError:
        raise file.fail("", "JSON nested too deeply to be an API response") from None
    except ValueError as exc:  # e.g. an integer literal of more than 4300 digits
        raise file.fail("", f"not usable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise file.fail("", "not a JSON object (expected a getProfile or getAuthorFeed response)")
    return file, data


def _profile(file: _File, data: Any, where: str) -> Profile:
    if not isinstance(data, dict):
        raise file.fail(where, "expected an object")
    did = file.get(data, where, "did", str)
    if not did.startswith("did:"):
        raise file.fail(f"{where}.did" if where else "did", f"not a DID: {did!r}")
    handle = file.get(data, where, "handle", str)
    return Profile(
        handle=handle,
        did=did,
        display_name=file.get(data, where, "displayName", str, handle),
        bio=file.get(data, where, "description", str, ""),
        **{col: file.get(data, where, key, int, 0) for col, key in _PROFILE_COUNTS.items()},
    )


def _post(file: _File, item: Any, where: str) -> Post:
    if not isinstance(item, dict):
        raise file.fail(where, "expected an object")
    post = file.get(item, where, "post", dict)
    where = f"{where}.post"
    uri = file.get(post, where, "uri", str)
    if not uri.startswith("at://"):
        raise file.fail(f"{where}.uri", f"not an at:// URI: {uri!r}")
    author = file.get(post, where, "author", dict)
    handle = file.get(author, f"{where}.author", "handle", str)
    record = file.get(post, where, "record", dict)
    kind = record.get("$type", "app.bsky.feed.post")
    if kind != "app.bsky.feed.post":
        raise file.fail(f"{where}.record.$type", f"expected app.bsky.feed.post, got {kind!r}")
    text = file.get(record, f"{where}.record", "text", str)
    created = utc_timestamp(file.get(record, f"{where}.record", "createdAt", str))
    if created is None:
        raise file.fail(f"{where}.record.createdAt", "not an ISO 8601 timestamp")
    return Post(
        post_id=f"bluesky:{uri}",
        source="bluesky",
        uri=uri,
        author_handle=handle,
        author_display_name=file.get(author, f"{where}.author", "displayName", str, handle),
        text=text,
        created_at=created,
        counts={col: file.get(post, where, key, int, 0) for col, key in _COUNTS.items()},
    )


def parse_file(path: str | os.PathLike) -> tuple[list[Profile], list[Post]]:
    """The profiles and posts of one saved API response (shapes: module docstring).

    Raises:
        InputError: naming the file, the record and the field that is wrong.
    """
    file, data = _read(path)
    if "feed" in data:
        feed = file.get(data, "", "feed", list)
        return [], [_post(file, item, f"feed[{i}]") for i, item in enumerate(feed)]
    if "profiles" in data:
        profiles = file.get(data, "", "profiles", list)
        return [_profile(file, p, f"profiles[{i}]") for i, p in enumerate(profiles)], []
    if "did" in data or "handle" in data:
        return [_profile(file, data, "")], []
    raise file.fail(
        "", "not a getProfile, getProfiles or getAuthorFeed response (no did, profiles or feed)"
    )


def import_bluesky(engine: Engine, paths: Iterable[str | os.PathLike]) -> Summary:
    """Import saved ``getProfile`` / ``getAuthorFeed`` responses, all or nothing.

    Raises:
        InputError: no files, a bad file (naming file, record and field) or a
            re-import (naming the clash); nothing is written.
    """
    names = [os.fspath(p) for p in paths]
    if not names:
        raise InputError("import: no files given; pass getProfile / getAuthorFeed JSON files")
    profiles, posts = [], []
    for name in names:
        new_profiles, new_posts = parse_file(name)
        profiles += new_profiles
        posts += new_posts
    config = {"files": names, "labeller": "simlab.population.labels"}
    return import_population(engine, profiles, posts, "bluesky", config)
