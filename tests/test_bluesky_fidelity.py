"""Bluesky shapes round-trip: reposts, reply chains, quotes, alt text, labels, langs, DIDs.

The fixtures in ``tests/data/bluesky/`` are written from the lexicons of
bluesky-social/atproto: ``lexicons/app/bsky/feed/defs.json`` (postView,
feedViewPost, replyRef, reasonRepost, threadViewPost, notFoundPost),
``lexicons/app/bsky/feed/post.json`` (record: text, facets, reply, embed, langs,
labels, createdAt), ``lexicons/app/bsky/embed/{images,record,recordWithMedia}.json``,
``lexicons/com/atproto/label/defs.json`` (label: src, uri, cid, val, neg, cts;
selfLabels) and ``lexicons/app/bsky/richtext/facet.json`` (byteStart/byteEnd;
#link, #mention, #tag). The snake_case dumps follow the atproto Python SDK's
generated models (MarshalX/atproto,
``packages/atproto_client/models/app/bsky/actor/defs.py``: ``display_name``,
``followers_count``, ``py_type`` aliased to ``$type``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from simlab.errors import InputError
from simlab.population import import_bluesky
from simlab.world import load_population

DATA = Path(__file__).parent / "data" / "bluesky"
FEED, PROFILE = DATA / "author_feed.json", DATA / "profile_new_handle.json"
AVA = "did:plc:ava4x2kq7hyd3mbn5sz6wrtp"
CITY = "bluesky:at://did:plc:news5t2r7qk4mvx3ybz6wd9c/app.bsky.feed.post/3lbpzzf2ur22k"
BEN = "bluesky:at://did:plc:ben3q7r4k2mx5vz6yw8nc9dt/app.bsky.feed.post/3lbq4hj3tbc2d"
REPLY = f"bluesky:at://{AVA}/app.bsky.feed.post/3lbq5bq6ljs2e"
QUOTE = f"bluesky:at://{AVA}/app.bsky.feed.post/3lbr7qw2cx22f"
QUOTED = "bluesky:at://did:plc:maps2v5k7q3rx4wz6yb8nc9dp/app.bsky.feed.post/3lbqw4k2m3s2b"
IMAGES = f"bluesky:at://{AVA}/app.bsky.feed.post/3lbs2fz7vh22q"
LABELLED = f"bluesky:at://{AVA}/app.bsky.feed.post/3lbt6kd3pl22c"
SPANISH = f"bluesky:at://{AVA}/app.bsky.feed.post/3lbu3mn5qk22x"


def _rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def _one(engine, sql: str, **params):
    return _rows(engine, sql, **params)[0]


@pytest.fixture
def imported(engine):
    import_bluesky(engine, [PROFILE, FEED])
    return engine


def test_repost_is_a_repost_of_the_original(imported):
    post = _one(imported, "SELECT * FROM feed_posts WHERE post_id = :p", p=CITY)
    assert post.author_handle == "citydesk.example.com"  # still the original author's post
    assert post.repost_count == 120  # from the API, not guessed
    assert _rows(imported, "SELECT * FROM reposts") == [
        (CITY, AVA, "ava.example.com", "2025-03-04T10:15:00+00:00")
    ]


def test_reply_chain_keeps_parent_and_root(imported):
    details = {r.post_id: r for r in _rows(imported, "SELECT * FROM post_details")}
    assert details[REPLY].reply_parent_uri == BEN.removeprefix("bluesky:")
    assert details[REPLY].reply_root_uri == CITY.removeprefix("bluesky:")
    assert details[BEN].reply_parent_uri == details[BEN].reply_root_uri == CITY[8:]
    assert details[CITY].reply_parent_uri is None
    # the parent came only as feedViewPost.reply.parent and is imported as a post too
    assert _one(imported, "SELECT author_handle FROM feed_posts WHERE post_id = :p", p=BEN)[0] == (
        "ben.example.net"
    )


def test_quote_is_linked_and_the_quoted_post_imported(imported):
    assert (
        _one(imported, "SELECT quote_uri FROM post_details WHERE post_id = :p", p=QUOTE)[0]
        == (QUOTED[8:])
    )
    quoted = _one(imported, "SELECT * FROM feed_posts WHERE post_id = :p", p=QUOTED)
    assert quoted.text == "Where new homes were allowed under the old zoning, 1990-2024."
    assert (quoted.like_count, quoted.repost_count, quoted.author_handle) == (
        310, 95, "maps.example.org"
    )  # fmt: skip


def test_image_only_post_uses_alt_text(imported):
    post = _one(imported, "SELECT * FROM feed_posts WHERE post_id = :p", p=IMAGES)
    alts = [
        i["alt"]
        for i in json.loads(FEED.read_text())["feed"][4]["post"]["record"]["embed"]["images"]
    ]
    assert post.text == " ".join(alts)
    details = _one(imported, "SELECT * FROM post_details WHERE post_id = :p", p=IMAGES)
    assert (details.text_source, details.alt_text) == ("alt", "\n".join(alts))
    topic = _one(
        imported,
        "SELECT topic, label_confidence FROM post_annotations WHERE post_id = :p",
        p=IMAGES,
    )
    assert topic[0] == "housing" and topic[1] > 0


def test_labelled_post_is_kept_but_not_served(imported, tmp_path):
    labels = _rows(
        imported,
        "SELECT src, val, kind FROM post_labels WHERE post_id = :p ORDER BY kind",
        p=LABELLED,
    )
    assert labels == [
        ("did:plc:ar7eannuvmkmaejj3yl5n6ik", "!warn", "moderation"),
        (AVA, "graphic-media", "self"),
    ]
    assert _one(imported, "SELECT served FROM post_details WHERE post_id = :p", p=LABELLED)[0] == 0
    with imported.connect() as conn:
        pop = load_population(conn)
    assert LABELLED not in set(pop.post_ids) and IMAGES in set(pop.post_ids)
    assert pop.post_text[list(pop.post_ids).index(IMAGES)].startswith("Crowd outside city hall")
    # --labels serve: the same post is served
    from simlab.db import make_engine, migrate

    migrate(tmp_path / "serve.db")
    served = make_engine(tmp_path / "serve.db")
    summary = import_bluesky(served, [PROFILE, FEED], labels="serve")
    with served.connect() as conn:
        assert LABELLED in set(load_population(conn).post_ids)
    assert "labelled posts not served" not in str(summary)
    with pytest.raises(InputError, match=r"^--labels: 'hide' is not one of serve, exclude"):
        import_bluesky(served, [FEED], labels="hide")


def test_summary_counts_the_hidden_post(engine):
    summary = import_bluesky(engine, [PROFILE, FEED])
    assert "1 reposts" in str(summary) and "1 labelled posts not served" in str(summary)


def test_non_english_post_keeps_langs_and_a_zero_time_counts_as_missing(imported):
    post = _one(imported, "SELECT created_at FROM feed_posts WHERE post_id = :p", p=SPANISH)
    assert post[0] == "2025-03-06T18:30:00+00:00"  # createdAt 0001-01-01T00:00:00Z -> indexedAt
    assert (
        _one(imported, "SELECT langs FROM post_details WHERE post_id = :p", p=SPANISH)[0]
        == '["es"]'
    )
    assert (
        _one(imported, "SELECT langs FROM post_details WHERE post_id = :p", p=REPLY)[0] == '["en"]'
    )


def test_facets_keep_links_mentions_and_tags_with_byte_ranges(imported):
    post_id = f"bluesky:at://{AVA}/app.bsky.feed.post/3lbq2vwxk4c2a"
    facets = json.loads(
        _one(imported, "SELECT facets_json FROM post_details WHERE post_id = :p", p=post_id)[0]
    )
    body = _one(imported, "SELECT text FROM feed_posts WHERE post_id = :p", p=post_id)[0].encode()
    assert [(f["kind"], f["value"]) for f in facets] == [
        ("link", "https://example.org/freeze"), ("mention", "did:plc:sam7k3n2q5vw6xj4yz8bc9dr"),
        ("tag", "housing"),
    ]  # fmt: skip
    spans = [body[f["byte_start"] : f["byte_end"]].decode() for f in facets]
    assert spans == ["example.org/freeze", "@sam.bsky.social", "#housing"]


def test_handle_change_keeps_posts_with_the_same_account(imported, tmp_path):
    handles = {
        r.author_handle
        for r in _rows(
            imported,
            "SELECT author_handle FROM feed_posts WHERE post_id LIKE :p",
            p=f"bluesky:at://{AVA}/%",
        )
    }
    assert handles == {"ava.example.com"}  # posts carried ava-old.bsky.social
    history = _rows(
        imported, "SELECT handle FROM account_handles WHERE did = :d ORDER BY handle", d=AVA
    )
    assert [h[0] for h in history] == ["ava-old.bsky.social", "ava.example.com"]
    with imported.connect() as conn:
        pop = load_population(conn)
    assert list(pop.handles) == ["ava.example.com"] and "ava-old.bsky.social" not in set(
        pop.accounts
    )
    # a later profile with yet another handle: same agent, the handle joins the history
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps({**json.loads(PROFILE.read_text()), "handle": "ava.bsky.team"}))
    summary = import_bluesky(imported, [renamed])
    assert summary.agents == 0 and summary.skipped["agent"] == 1
    assert [r[0] for r in _rows(imported, "SELECT handle FROM agent")] == ["ava.example.com"]
    assert len(_rows(imported, "SELECT * FROM account_handles WHERE did = :d", d=AVA)) == 3


def test_sdk_snake_case_dumps_import_like_the_api(engine):
    summary = import_bluesky(engine, [DATA / "profile_sdk_dump.json", DATA / "feed_sdk_dump.json"])
    assert (summary.agents, summary.posts) == (1, 1)
    agent = _one(engine, "SELECT * FROM bluesky_profiles")
    assert (agent.display_name, agent.followers_count, agent.follows_count, agent.posts_count) == (
        "Kim Okafor", 512, 180, 731
    )  # fmt: skip
    post = _one(engine, "SELECT * FROM feed_posts")
    counts = (post.like_count, post.repost_count, post.reply_count, post.quote_count)
    assert counts == (44, 9, 7, 3) and post.created_at == "2025-02-11T14:00:00+00:00"
    inference = _one(engine, "SELECT * FROM agent_inferences")
    assert inference.leaning > 0 and 0 < inference.leaning_confidence < 1  # tax cuts, red tape


def test_post_thread_imports_parent_and_replies(engine):
    summary = import_bluesky(engine, [DATA / "post_thread.json"])
    assert summary.posts == 4  # post, parent, two replies; the notFoundPost is skipped
    kim = "bluesky:at://did:plc:kim6r3t5q2wx7vz4yb8nd9cf/app.bsky.feed.post/3lbq7ccc4dd2e"
    assert (
        _one(engine, "SELECT reply_parent_uri FROM post_details WHERE post_id = :p", p=kim)[0]
        == BEN[8:]
    )
    leanings = dict(_rows(engine, "SELECT post_id, leaning FROM post_inferences"))
    assert leanings[kim] > 0 > leanings[REPLY]  # property rights vs social housing


def test_bad_timestamp_is_refused_and_nothing_written(engine, tmp_path):
    data = json.loads(FEED.read_text())
    data["feed"][6]["post"].pop("indexedAt")  # createdAt is the zero time: no time left
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        import_bluesky(engine, [PROFILE, bad])
    assert str(caught.value).startswith(
        f'import: {bad}: feed[6].post.record.createdAt: "0001-01-01T00:00:00Z" is not a usable time'
    )
    assert _rows(engine, "SELECT count(*) FROM feed_posts") == [(0,)]


def test_overlapping_page_imports_only_its_new_post(engine, tmp_path):
    first = import_bluesky(engine, [DATA / "timeline_page1.json"])
    assert first.posts == 3
    second = import_bluesky(engine, [DATA / "timeline_page2.json"])
    assert (second.posts, second.skipped["feed_posts"]) == (1, 2)
    assert "1 posts" in str(second) and "2 feed_posts skipped" in str(second)
    likes = dict(_rows(engine, "SELECT post_id, like_count FROM feed_posts"))
    assert (
        likes["bluesky:at://did:plc:lee4m7q2r5vx3kz6yw8bn9ct/app.bsky.feed.post/3lc0000000003"]
        == 12
    )
    updated = import_bluesky(engine, [DATA / "timeline_page2.json"], on_duplicate="update")
    assert updated.posts == 0 and updated.updated["feed_posts"] == 3
    likes = dict(_rows(engine, "SELECT post_id, like_count FROM feed_posts"))
    assert (
        likes["bluesky:at://did:plc:lee4m7q2r5vx3kz6yw8bn9ct/app.bsky.feed.post/3lc0000000003"]
        == 20
    )
    # still all or nothing: a malformed page writes not even its new post
    page = json.loads((DATA / "timeline_page2.json").read_text())
    page["feed"][0]["post"]["uri"] = page["feed"][0]["post"]["uri"].replace("0004", "0005")
    page["feed"][2]["post"]["likeCount"] = "many"
    bad = tmp_path / "page3.json"
    bad.write_text(json.dumps(page))
    before = _rows(engine, "SELECT count(*) FROM feed_posts")
    with pytest.raises(
        InputError, match=r"feed\[2\]\.post\.likeCount: expected a non-negative integer"
    ):
        import_bluesky(engine, [bad])
    assert _rows(engine, "SELECT count(*) FROM feed_posts") == before


def test_unknown_leaning_stays_unknown(engine, tmp_path):
    quiet = tmp_path / "quiet.json"
    quiet.write_text(
        json.dumps({"did": "did:plc:quiet2k5q7r3vx4wz6yb8nc9", "handle": "quiet.example.com"})
    )
    import_bluesky(engine, [quiet])
    inference = _one(engine, "SELECT * FROM agent_inferences")
    assert inference.leaning is None and inference.leaning_confidence == 0
    assert _one(engine, "SELECT leaning FROM agent_traits")[0] == 0
    bio = _one(engine, "SELECT persona_bio FROM agent_persona_bios")[0]
    assert "left" not in bio and "right" not in bio and "no side" in bio


def test_quote_with_media_links_the_quote_and_uses_the_media_alt(engine, tmp_path):
    """``app.bsky.embed.recordWithMedia`` (record + images), in record and view form."""
    quoted_uri = "at://did:plc:maps2v5k7q3rx4wz6yb8nc9dp/app.bsky.feed.post/3lbqw4k2m3s2b"
    author = {"did": AVA, "handle": "ava.example.com"}
    item = {"post": {
        "uri": f"at://{AVA}/app.bsky.feed.post/3lbv9aa2bb22c", "cid": "bafyreiquotemedia",
        "author": author, "indexedAt": "2025-03-07T09:00:01.000Z", "likeCount": 4,
        "record": {"$type": "app.bsky.feed.post", "text": "", "createdAt": "2025-03-07T09:00:00.000Z",
                   "embed": {"$type": "app.bsky.embed.recordWithMedia",
                             "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted_uri, "cid": "bafyreiq"}},
                             "media": {"$type": "app.bsky.embed.images",
                                       "images": [{"alt": "Chart of rents rising 40% since 2019", "image": {"$type": "blob"}}]}}},
        "embed": {"$type": "app.bsky.embed.recordWithMedia#view",
                  "record": {"record": {"$type": "app.bsky.embed.record#viewRecord", "uri": quoted_uri, "cid": "bafyreiq",
                                        "author": {"did": "did:plc:maps2v5k7q3rx4wz6yb8nc9dp", "handle": "maps.example.org"},
                                        "value": {"$type": "app.bsky.feed.post", "text": "Zoning map, 1990-2024.",
                                                  "createdAt": "2025-03-04T20:00:00.000Z"},
                                        "indexedAt": "2025-03-04T20:00:01.500Z"}},
                  "media": {"$type": "app.bsky.embed.images#view",
                            "images": [{"thumb": "https://cdn.example/t", "fullsize": "https://cdn.example/f",
                                        "alt": "Chart of rents rising 40% since 2019"}]}},
    }}  # fmt: skip
    path = tmp_path / "quote_media.json"
    path.write_text(json.dumps({"feed": [item]}))
    assert import_bluesky(engine, [path]).posts == 2
    post_id = f"bluesky:{item['post']['uri']}"
    details = _one(engine, "SELECT * FROM post_details WHERE post_id = :p", p=post_id)
    assert (details.quote_uri, details.text_source) == (quoted_uri, "alt")
    assert _one(engine, "SELECT text FROM feed_posts WHERE post_id = :p", p=post_id)[0] == (
        "Chart of rents rising 40% since 2019"
    )
    assert _one(
        engine, "SELECT text FROM feed_posts WHERE post_id = :p", p=f"bluesky:{quoted_uri}"
    )[0] == ("Zoning map, 1990-2024.")


def test_a_new_account_with_a_taken_handle_is_refused(imported, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps({"did": "did:plc:other2k5q7r3vx4wz6yb8nc9", "handle": "ava.example.com"})
    )
    with pytest.raises(
        InputError,
        match=r"agent handle='ava\.example\.com' is already in the database.*another account",
    ):
        import_bluesky(imported, [other])
    assert len(_rows(imported, "SELECT * FROM agent")) == 1


def test_update_refreshes_the_profile_and_keeps_the_handle(imported, tmp_path):
    newer = tmp_path / "newer.json"
    newer.write_text(
        json.dumps(
            {**json.loads(PROFILE.read_text()), "followersCount": 2000, "displayName": "Ava L."}
        )
    )
    summary = import_bluesky(imported, [newer], on_duplicate="update")
    assert summary.updated["agent"] == 1 and "1 agent updated" in str(summary)
    agent = _one(imported, "SELECT * FROM agent")
    assert (agent.handle, agent.display_name) == ("ava.example.com", "Ava L.")
    assert _one(imported, "SELECT followers_count FROM user_agent_profile_metadata")[0] == 2000
    # the stored posts still count for the re-inferred leaning (no new posts came with it)
    assert _one(imported, "SELECT posts_used FROM agent_inferences")[0] == 6
