"""Bluesky JSON and SQLite imports: what they write, what they refuse, and that refusals write nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from simlab.db import make_engine, migrate
from simlab.errors import InputError
from simlab.population import (
    SyntheticConfig,
    create_synthetic,
    import_bluesky,
    import_sqlite,
    importing,
)
from simlab.population.labels import PostLabel, label_post
from simlab.population.topics import TOPIC_NAMES
from simlab.population.traits import TRAIT_MEANS
from simlab.schema import agent_bios, bluesky_profiles, feed_posts
from simlab.world import load_population

DATA = Path(__file__).parent / "data"
PROFILE = DATA / "bluesky_profile.json"
FEED = DATA / "bluesky_author_feed.json"
MIRA = "mira.example.com"
TABLES = (
    "agent",
    "agent_persona_bios",
    "user_agent_profile_metadata",
    "agent_traits",
    "bluesky_profiles",
    "agent_bios",
    "feed_posts",
    "post_annotations",
    "initial_follows",
    "populations",
)


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql)).all()


def _write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def _feed() -> dict:
    return json.loads(FEED.read_text())


# --- Bluesky JSON -------------------------------------------------------------------------


def test_bluesky_import_writes_profiles_agents_posts_and_labels(engine):
    summary = import_bluesky(engine, [PROFILE, FEED])
    assert (summary.source, summary.agents, summary.posts, summary.profiles) == ("bluesky", 1, 5, 1)
    assert summary.follows == 0
    profile = _rows(engine, "SELECT * FROM bluesky_profiles")[0]
    assert (profile.handle, profile.did, profile.display_name) == (
        MIRA,
        "did:plc:miraexample0000000000001",
        "Mira Example",
    )
    assert (profile.followers_count, profile.follows_count, profile.posts_count) == (
        1520,
        310,
        2875,
    )
    agent = _rows(engine, "SELECT * FROM agent JOIN agent_persona_bios USING (agent_id)")[0]
    assert (agent.agent_id, agent.handle, agent.persona_source) == (profile.did, MIRA, "bluesky")
    assert agent.persona_bio == profile.bio and agent.persona_bio_source == "bluesky"
    meta = _rows(engine, "SELECT * FROM user_agent_profile_metadata")[0]
    assert (meta.followers_count, meta.follows_count, meta.posts_count) == (1520, 310, 2875)

    posts = {p.uri: p for p in _rows(engine, "SELECT * FROM feed_posts")}
    first = posts["at://did:plc:miraexample0000000000001/app.bsky.feed.post/3la0000000001"]
    assert first.post_id == f"bluesky:{first.uri}" and first.source == "bluesky"
    assert (first.like_count, first.repost_count, first.reply_count) == (57, 12, 4)
    assert (first.quote_count, first.bookmark_count) == (1, 3)
    assert first.created_at == "2025-10-02T20:00:00+00:00"
    repost = posts["at://did:plc:newsdeskexample000000001/app.bsky.feed.post/3la0000000002"]
    assert repost.author_handle == "newsdesk.example.org"
    assert repost.author_display_name == "newsdesk.example.org"  # displayName -> handle
    assert repost.created_at == "2025-10-02T07:30:00+00:00"  # +02:00 normalised to UTC
    assert repost.bookmark_count == 0  # missing count -> 0

    labels = _rows(
        engine, "SELECT p.text, n.* FROM feed_posts p JOIN post_annotations n USING (post_id)"
    )
    for row in labels:
        assert row.label_source == "inferred"
        assert (row.topic, row.leaning, row.label_confidence) == tuple(label_post(row.text).label)


def test_imported_traits_come_from_own_posts(engine):
    import_bluesky(engine, [FEED, PROFILE])  # order of files does not matter
    traits = _rows(engine, "SELECT * FROM agent_traits")[0]
    own = [
        label_post(item["post"]["record"]["text"])
        for item in _feed()["feed"]
        if item["post"]["author"]["handle"] == MIRA
    ] + [label_post(json.loads(PROFILE.read_text())["description"])]
    # independent computation of the confidence-weighted mean over texts that take a side
    sided = [(lb.leaning, lb.leaning_confidence) for lb in own if lb.leaning]
    expected = sum(v * c for v, c in sided) / sum(c for _, c in sided)
    assert traits.leaning == pytest.approx(expected, abs=1e-6)
    assert traits.leaning < 0  # renewables, carbon tax, rent control, climate justice
    interests = json.loads(traits.interests)
    assert set(interests) == set(TOPIC_NAMES)
    assert sum(interests.values()) == pytest.approx(1, abs=1e-5)
    assert max(interests, key=interests.get) == "climate"
    assert interests["climate"] > interests["housing"] > interests["sports"] > 0
    assert traits.activity_rate == pytest.approx(TRAIT_MEANS["activity_rate"])
    with engine.connect() as conn:
        pop = load_population(conn)
    assert pop.n_agents == 1 and pop.n_posts == 5
    assert list(pop.accounts) == [MIRA, "newsdesk.example.org"]
    assert pop.account_leaning[1] > 0  # the outside account's post argues for drilling
    assert len(pop.follow_pairs) == 0


def test_profile_defaults_and_profiles_list(engine, tmp_path):
    bare = _write_json(
        tmp_path / "profiles.json",
        {"profiles": [{"did": "did:plc:bareexample000000000001", "handle": "bare.example.net"}]},
    )
    summary = import_bluesky(engine, [bare])
    assert summary.agents == 1 and summary.posts == 0
    profile = _rows(engine, "SELECT * FROM bluesky_profiles")[0]
    assert profile.display_name == "bare.example.net" and profile.bio == ""
    assert (profile.followers_count, profile.follows_count, profile.posts_count) == (0, 0, 0)
    bio = _rows(engine, "SELECT persona_bio, persona_bio_source FROM agent_persona_bios")[0]
    assert bio.persona_bio_source == "inferred" and bio.persona_bio.startswith("Posts ")
    traits = _rows(engine, "SELECT * FROM agent_traits")[0]
    assert traits.leaning == 0
    assert list(json.loads(traits.interests).values()) == pytest.approx(
        [1 / len(TOPIC_NAMES)] * len(TOPIC_NAMES), abs=1e-6
    )
    with engine.connect() as conn:
        assert load_population(conn).n_agents == 1


def test_repeats_within_one_import_are_skipped(engine):
    summary = import_bluesky(engine, [PROFILE, FEED, FEED, PROFILE])
    assert (summary.agents, summary.posts) == (1, 5)


def _bad_feed(tmp_path: Path, index: int, change) -> Path:
    data = _feed()
    change(data["feed"][index]["post"])
    return _write_json(tmp_path / "posts.json", data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: (p["record"].pop("createdAt"), p.pop("indexedAt")), "feed[3].post.record.createdAt: missing"),
        (lambda p: (p["record"].update(createdAt="yesterday"), p.pop("indexedAt")), 'feed[3].post.record.createdAt: "yesterday" is not a usable time'),
        (lambda p: (p["record"].update(createdAt="0001-01-01T00:00:00Z"), p.pop("indexedAt")), 'feed[3].post.record.createdAt: "0001-01-01T00:00:00Z" is not a usable time'),
        (lambda p: p.update(likeCount="many"), 'feed[3].post.likeCount: expected a non-negative integer, got "many"'),
        (lambda p: p.update(replyCount=-1), "feed[3].post.replyCount: expected a non-negative integer"),
        (lambda p: p["author"].pop("handle"), "feed[3].post.author.handle: missing"),
        (lambda p: p.pop("record"), "feed[3].post.record: missing"),
        (lambda p: p["record"].pop("text"), "feed[3].post.record.text: missing"),
        (lambda p: p.update(uri="https://example.com/x"), "feed[3].post.uri: not an at:// URI"),
        (lambda p: p["record"].update({"$type": "app.bsky.feed.like"}), "feed[3].post.record.$type"),
    ],
)  # fmt: skip
def test_bad_record_names_file_record_and_field_and_writes_nothing(
    engine, tmp_path, change, message
):
    bad = _bad_feed(tmp_path, 3, change)
    before = _counts(engine)
    with pytest.raises(InputError) as caught:
        import_bluesky(engine, [PROFILE, bad])
    assert str(caught.value) == f"import: {bad}: {message}" or str(caught.value).startswith(
        f"import: {bad}: {message}"
    )
    assert "\n" not in str(caught.value)
    assert _counts(engine) == before == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"feed": [', "not valid JSON (line 1, column 11"),
        ("[1, 2]", "not a JSON object"),
        (
            '{"hello": 1}',
            "not a getProfile, getProfiles, getAuthorFeed, getTimeline or getPostThread response",
        ),
        ('{"feed": {"post": 1}}', "feed: expected a list"),
        ('{"feed": [1]}', "feed[0]: expected an object"),
        ('{"did": "plc:x", "handle": "x.example.com"}', "did: not a DID"),
        ('{"did": "did:plc:x"}', "handle: missing"),
        (
            '{"profiles": [{"did": "did:plc:x", "handle": 3}]}',
            "profiles[0].handle: expected a string",
        ),
    ],
)
def test_bad_json_files(engine, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=r"^import: .*bad\.json: ") as caught:
        import_bluesky(engine, [PROFILE, path])
    assert message in str(caught.value)
    assert _counts(engine) == dict.fromkeys(TABLES, 0)


def test_missing_and_binary_files(engine, tmp_path):
    with pytest.raises(InputError, match="nope.json: no such file"):
        import_bluesky(engine, [tmp_path / "nope.json"])
    binary = tmp_path / "x.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="x.json: not valid JSON"):
        import_bluesky(engine, [binary])
    with pytest.raises(InputError, match="no files given"):
        import_bluesky(engine, [])


def test_reimport_with_error_is_refused_and_writes_nothing(engine, tmp_path):
    import_bluesky(engine, [PROFILE, FEED])
    before = _counts(engine)
    with pytest.raises(
        InputError,
        match=r"^import: agent agent_id='did:plc:miraexample0000000000001' is already in the "
        r"database \(1 of 1 new rows clash\); re-imports are refused with --on-duplicate error",
    ):
        import_bluesky(engine, [PROFILE], on_duplicate="error")
    # new profile, but the posts clash: nothing of it is written either
    other = _write_json(
        tmp_path / "p.json", {"did": "did:plc:other000000000000000001", "handle": "o.example.com"}
    )
    with pytest.raises(
        InputError, match=r"feed_posts post_id='bluesky:at://.*already in the database \(5 of 5"
    ):
        import_bluesky(engine, [other, FEED], on_duplicate="error")
    assert _counts(engine) == before
    with pytest.raises(
        InputError, match=r"^--on-duplicate: 'merge' is not one of error, skip, update"
    ):
        import_bluesky(engine, [other], on_duplicate="merge")
    assert _counts(engine) == before


def test_import_adds_to_a_synthetic_population(engine):
    create_synthetic(engine, SyntheticConfig(agents=20, posts=40))
    summary = import_bluesky(engine, [PROFILE, FEED])
    assert summary.population_id == 2
    assert [r.source for r in _rows(engine, "SELECT source FROM populations ORDER BY 1")] == [
        "bluesky",
        "synthetic",
    ]
    with engine.connect() as conn:
        pop = load_population(conn)
    assert pop.n_agents == 21 and pop.n_posts == 45


def test_a_failing_insert_rolls_everything_back(engine, monkeypatch):
    """A row the database rejects mid-write (here an out-of-range leaning) undoes every insert."""

    def label(text):  # only the outside account's post: agent rows are fine, annotations are not
        return PostLabel("climate", 0.5, 2.0 if "drilling" in text else 0.0, 0.5)

    monkeypatch.setattr(importing, "label_post", label)
    with pytest.raises(IntegrityError):
        import_bluesky(engine, [PROFILE, FEED])
    assert _counts(engine) == dict.fromkeys(TABLES, 0)


# --- SQLite -------------------------------------------------------------------------------


def _source_db(tmp_path: Path) -> Path:
    """A source database with the seed tables: two profiles, one generated bio, three posts."""
    path = tmp_path / "source.db"
    migrate(path)
    engine = make_engine(path)
    profile = {"followers_count": 10, "follows_count": 5, "posts_count": 2}
    post = {"source": "bluesky", "bookmark_count": 0, "quote_count": 0, "repost_count": 1}
    with engine.begin() as conn:
        conn.execute(
            bluesky_profiles.insert(),
            [
                {"handle": "ana.example.com", "did": "did:plc:ana", "display_name": "Ana",
                 "bio": "Profile bio of Ana", **profile},
                {"handle": "ben.example.com", "did": "did:plc:ben", "display_name": "Ben",
                 "bio": "Profile bio of Ben", **profile},
            ],
        )  # fmt: skip
        conn.execute(
            agent_bios.insert(),
            [{"handle": "ana.example.com", "generated_bio": "Generated bio of Ana",
              "created_at": "2025-01-01T00:00:00Z"}],
        )  # fmt: skip
        conn.execute(
            feed_posts.insert(),
            [
                {"post_id": "p1", "uri": "at://did:plc:ana/app.bsky.feed.post/1",
                 "author_display_name": "Ana", "author_handle": "ana.example.com",
                 "text": "Tax cuts and deregulation help small business and jobs",
                 "like_count": 40, "reply_count": 3, "created_at": "2025-01-02T10:00:00Z", **post},
                {"post_id": "p2", "uri": "at://did:plc:ben/app.bsky.feed.post/2",
                 "author_display_name": "Ben", "author_handle": "ben.example.com",
                 "text": "Union jobs and a living wage", "like_count": 5, "reply_count": 1,
                 "created_at": "2025-01-02T11:00:00.123+00:00", **post},
                {"post_id": "p3", "uri": "at://did:plc:cy/app.bsky.feed.post/3",
                 "author_display_name": "Cy", "author_handle": "cy.example.com",
                 "text": "Nice day", "like_count": 0, "reply_count": 0,
                 "created_at": "2025-01-02T12:00:00", **post},
            ],
        )  # fmt: skip
    engine.dispose()
    return path


def test_sqlite_import_copies_rows_and_builds_agents(engine, tmp_path):
    source = _source_db(tmp_path)
    summary = import_sqlite(engine, source)
    assert (summary.source, summary.agents, summary.posts, summary.profiles) == ("sqlite", 2, 3, 2)
    bios = dict(
        _rows(
            engine,
            "SELECT a.handle, b.persona_bio FROM agent a JOIN agent_persona_bios b USING (agent_id)",
        )
    )
    assert bios == {
        "ana.example.com": "Generated bio of Ana",
        "ben.example.com": "Profile bio of Ben",
    }
    sources = dict(_rows(engine, "SELECT agent_id, persona_bio_source FROM agent_persona_bios"))
    assert sources == {"did:plc:ana": "agent_bios", "did:plc:ben": "bluesky"}
    assert _rows(engine, "SELECT handle, generated_bio FROM agent_bios") == [
        ("ana.example.com", "Generated bio of Ana")
    ]
    posts = {p.post_id: p for p in _rows(engine, "SELECT * FROM feed_posts")}
    assert set(posts) == {"p1", "p2", "p3"} and posts["p1"].like_count == 40
    assert posts["p2"].created_at == "2025-01-02T11:00:00.123000+00:00"
    assert posts["p3"].created_at == "2025-01-02T12:00:00+00:00"  # naive read as UTC
    leaning = dict(_rows(engine, "SELECT agent_id, leaning FROM agent_traits"))
    assert leaning["did:plc:ana"] > 0 > leaning["did:plc:ben"]
    assert {r.label_source for r in _rows(engine, "SELECT label_source FROM post_annotations")} == {
        "inferred"
    }
    config = json.loads(_rows(engine, "SELECT config_json FROM populations")[0][0])
    assert config["path"] == str(source)
    with engine.connect() as conn:
        pop = load_population(conn)
    assert pop.n_agents == 2 and pop.n_accounts == 3 and pop.n_posts == 3
    with pytest.raises(InputError, match="agent agent_id='did:plc:ana' is already in the database"):
        import_sqlite(engine, source, on_duplicate="error")
    again = import_sqlite(engine, source)  # default: skip what was imported before
    assert (again.agents, again.posts, again.skipped["feed_posts"]) == (0, 0, 3)


def test_sqlite_source_missing_tables(engine, tmp_path):
    path = tmp_path / "partial.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE bluesky_profiles (handle TEXT)")
    with pytest.raises(InputError, match=r"partial\.db: missing table\(s\) feed_posts, agent_bios"):
        import_sqlite(engine, path)
    assert _counts(engine) == dict.fromkeys(TABLES, 0)


def test_sqlite_source_missing_columns(engine, tmp_path):
    path = tmp_path / "narrow.db"
    with sqlite3.connect(path) as conn:
        for table in (bluesky_profiles, feed_posts, agent_bios):
            columns = [c.name for c in table.columns if c.name != "like_count"]
            conn.execute(f"CREATE TABLE {table.name} ({', '.join(columns)})")
    with pytest.raises(InputError, match="table feed_posts lacks column.s. like_count"):
        import_sqlite(engine, path)


def test_sqlite_source_with_a_bad_value_writes_nothing(engine, tmp_path):
    source = _source_db(tmp_path)
    with sqlite3.connect(source) as conn:  # bypass the schema's types: SQLite stores anything
        conn.execute("PRAGMA ignore_check_constraints = 1")
        conn.execute("UPDATE feed_posts SET like_count = 'lots' WHERE post_id = 'p2'")
    with pytest.raises(
        InputError, match=r"source\.db: feed_posts\['p2'\]\.like_count: expected an integer"
    ):
        import_sqlite(engine, source)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "UPDATE feed_posts SET like_count = 1, created_at = 'soon' WHERE post_id = 'p2'"
        )
    with pytest.raises(InputError, match=r"feed_posts\['p2'\]\.created_at: not an ISO 8601"):
        import_sqlite(engine, source)
    assert _counts(engine) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("just text, not a database"), "not a SQLite database"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, "no such file"),
    ],
)
def test_sqlite_source_that_is_not_a_database(engine, tmp_path, make, message):
    path = tmp_path / "source.db"
    make(path)
    with pytest.raises(InputError, match=f"import: .*source.db: {message}"):
        import_sqlite(engine, path)
