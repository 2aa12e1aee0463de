"""Reading saved Bluesky JSON: files, field checks with located errors, SDK dumps, record parts.

The atproto Python SDK's ``model_dump()`` / ``.dict()`` writes the lexicon's
camelCase names in snake_case and ``$type`` as ``py_type``; :func:`camel_keys`
turns such a dump back into the lexicon's names (lexicon field names contain no
underscore, so the mapping is one to one).

Record parts (``app.bsky.feed.post`` [Bluesky2024]): ``embed`` images give
alt text (``app.bsky.embed.images``: ``images[].alt``; also the ``media`` of
``app.bsky.embed.recordWithMedia``); a quote is ``app.bsky.embed.record``'s
``record.uri`` (or ``recordWithMedia``'s ``record.record.uri``); facets
(``app.bsky.richtext.facet``) are links (``#link.uri``), mentions
(``#mention.did``) and tags (``#tag.tag``) over byte ranges.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from simlab.errors import InputError
from simlab.limits import MAX_COUNT

REQUIRED = object()
_FACET_VALUES = {"link": "uri", "mention": "did", "tag": "tag"}


def _camel(key: str) -> str:
    if key == "py_type":
        return "$type"
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(value: Any) -> Any:
    """``value`` with every snake_case object key in lexicon camelCase (``py_type`` -> ``$type``).

    >>> camel_keys({"display_name": "A", "py_type": "x", "labels": [{"neg": None}]})
    {'displayName': 'A', '$type': 'x', 'labels': [{'neg': None}]}
    """
    if isinstance(value, dict):
        return {_camel(k) if "_" in k else k: camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


class JsonFile:
    """One input file: reads fields and names the file and field path in errors."""

    def __init__(self, name: str) -> None:
        """Name the file (used in every error)."""
        self.name = name

    def fail(self, where: str, problem: str) -> InputError:
        """An InputError naming this file, the field path and the problem."""
        location = f"{where}: " if where else ""
        return InputError(f"import: {self.name}: {location}{problem}")

    def get(self, obj: dict, where: str, key: str, kind: type, default: Any = REQUIRED) -> Any:
        """``obj[key]`` checked to be of ``kind`` (int: non-negative); None/absent -> default.

        Raises:
            InputError: the field is required and missing, or of the wrong kind.
        """
        path = f"{where}.{key}" if where else key
        value = obj.get(key)
        if value is None or (kind is str and default is not REQUIRED and value == ""):
            if default is REQUIRED:
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


def read_json(path: str | os.PathLike) -> tuple[JsonFile, dict]:
    """The file's JSON object, with SDK snake_case keys turned into lexicon camelCase.

    Raises:
        InputError: the file is missing, unreadable, not UTF-8, not JSON or not an object.
    """
    file = JsonFile(os.fspath(path))
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
    return file, camel_keys(data)


def _kind(obj: Any) -> str:
    return obj.get("$type", "") if isinstance(obj, dict) else ""


def alt_texts(*embeds: Any) -> list[str]:
    """Non-empty alt texts of the images in record or view embeds (first embed that has any)."""
    for embed in embeds:
        if not isinstance(embed, dict):
            continue
        media = embed.get("media") if "recordWithMedia" in _kind(embed) else embed
        images = media.get("images") if isinstance(media, dict) else None
        alts = [i.get("alt", "").strip() for i in images or [] if isinstance(i, dict)]
        if any(alts):
            return [a for a in alts if a]
    return []


def quoted_uri(embed: Any) -> str | None:
    """The at:// URI a record embed quotes, or None."""
    kind = _kind(embed)
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        embed = embed.get("record")
    elif not kind.startswith("app.bsky.embed.record"):
        return None
    ref = embed.get("record") if isinstance(embed, dict) else None
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") else None


def quoted_view(embed: Any) -> dict | None:
    """The ``app.bsky.embed.record#viewRecord`` a view embed shows, or None."""
    kind = _kind(embed)
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        embed = embed.get("record")
    elif not kind.startswith("app.bsky.embed.record"):
        return None
    view = embed.get("record") if isinstance(embed, dict) else None
    return view if isinstance(view, dict) and "value" in view and "author" in view else None


def facets(record: dict) -> list[dict]:
    """Links, mentions and tags of a record's facets as ``{kind, value, byte_start, byte_end}``."""
    found = []
    for facet in record.get("facets") or []:
        index = facet.get("index") or {} if isinstance(facet, dict) else {}
        for feature in facet.get("features") or [] if isinstance(facet, dict) else []:
            kind = _kind(feature).rpartition("#")[2]
            if kind in _FACET_VALUES:
                found.append({"kind": kind, "value": feature.get(_FACET_VALUES[kind]),
                              "byte_start": index.get("byteStart"),
                              "byte_end": index.get("byteEnd")})  # fmt: skip
    return found


def labels(post: dict, record: dict, author_did: str, created_at: str) -> tuple[dict, ...]:
    """``post_labels`` rows (but post_id): the view's labels and the record's self-labels.

    A label whose ``src`` is the author is a self-label; a negation (``neg``)
    removes the same (src, val). Repeats are kept once.
    """
    rows: dict[tuple[str, str], dict] = {}
    for label in post.get("labels") or []:
        if not isinstance(label, dict) or not label.get("val"):
            continue
        src = label.get("src") or author_did
        if label.get("neg"):
            rows.pop((src, label["val"]), None)
            continue
        kind = "self" if src == author_did else "moderation"
        rows[(src, label["val"])] = {"src": src, "val": label["val"], "kind": kind,
                                     "created_at": label.get("cts")}  # fmt: skip
    own = record.get("labels")
    for value in own.get("values") or [] if isinstance(own, dict) else []:
        if isinstance(value, dict) and value.get("val"):
            rows.setdefault((author_did, value["val"]), {"src": author_did, "val": value["val"],
                                                         "kind": "self", "created_at": created_at})  # fmt: skip
    return tuple(rows.values())
