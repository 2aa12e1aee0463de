"""Run, comparison and sweep ids: 10 lowercase base32 characters, 50 random bits."""

import base64
import re

from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.ids import ID_LENGTH, new_id
from tests.conftest import synthetic_database

ID_PATTERN = re.compile(r"[a-z2-7]{10}")


def test_ids_are_lowercase_base32_of_the_documented_length():
    ids = [new_id() for _ in range(2000)]
    assert all(ID_PATTERN.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert ID_LENGTH == 10


def test_each_character_carries_five_random_bits():
    """All 32 symbols appear at every position: no position is fixed or biased to a subset."""
    ids = [new_id() for _ in range(4000)]
    alphabet = set(base64.b32encode(bytes(range(256))).decode().lower()) - {"="}
    for position in range(ID_LENGTH):
        assert {i[position] for i in ids} == alphabet


def test_a_run_is_stored_under_a_new_style_id(tmp_path):
    db = synthetic_database(tmp_path / "ids.db", agents=20, posts=40, seed=1)
    run_id = simulation.run(RunConfig(seed=1, turns=1), db)
    assert ID_PATTERN.fullmatch(run_id)
