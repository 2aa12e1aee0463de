"""A turn's feed columns: the JSON of each feed and its items are one and the same list.

The SQLite rows hold each feed's ``post_ids`` JSON; the streamed columnar
copy holds the same feeds as items built from the index arrays
(:class:`simlab.turn_rows.FeedItems`). Here feeds padded with -1 at the end
and inside, and empty feeds, are built both ways and compared.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from simlab.turn_rows import Constant, RowBuilder, TableRows


def _builder_and_turn():
    post_ids = np.array(["p0", "p1", 'q"2', "p\u00e93", "p4"], dtype=object)
    pop = SimpleNamespace(handles=np.array(["a", "b", "c", "d"], dtype=object), post_ids=post_ids)
    feeds = np.array([[3, 1, -1], [-1, -1, -1], [0, -1, 4], [2, 4, 0]])
    scores = np.where(feeds >= 0, 0.5, 0.0) + np.arange(12).reshape(4, 3)
    rows = SimpleNamespace(
        turn=7, agents=np.array([3, 0, 2, 1]), feeds=feeds, scores=scores, pop=pop
    )
    return RowBuilder("r1", pop, "m", "m"), rows


def test_feed_items_are_the_posts_the_json_lists_in_rank_order():
    builder, rows = _builder_and_turn()
    feeds, scores, items = builder.feeds(rows, "now")
    from_json = [
        (handle, rank, post)
        for handle, text in zip(
            feeds.columns["agent_handle"], feeds.columns["post_ids"], strict=True
        )
        for rank, post in enumerate(json.loads(text), start=1)
    ]
    from_items = list(
        zip(
            rows.pop.handles[items.agent].tolist(),
            items.rank.tolist(),
            items.post_ids[items.post].tolist(),
            strict=True,
        )
    )
    assert from_items == from_json
    assert from_json[:2] == [("d", 1, "p\u00e93"), ("d", 2, "p1")]
    assert ("c", 2, "p4") in from_json  # the -1 inside the feed is skipped, not ranked
    assert feeds.columns["post_ids"][1] == "[]"
    assert items.rank.dtype == np.int32


def test_table_rows_repeat_constants_on_every_row_of_the_tuples():
    builder, rows = _builder_and_turn()
    feeds, scores, _ = builder.feeds(rows, "now")
    assert isinstance(feeds.columns["run_id"], Constant)
    assert feeds.tuples()[0] == ("r1-7-3", "r1", 7, "d", '["p\\u00e93","p1"]', "now")
    assert [row[:3] for row in scores.tuples()] == [("r1", 7, h) for h in "dacb"]
    assert TableRows(0, {"a": Constant(1), "b": []}).tuples() == []
