"""Evaluators: the registry contract, VADER's published examples, offensive, the LLM judge."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from simlab.errors import InputError
from simlab.evaluators import EVALUATORS, EvaluatorOptions, embedded, names
from simlab.evaluators.base import EvaluationStopped
from simlab.evaluators.llm_judge import DIMENSIONS as JUDGE_DIMENSIONS
from simlab.evaluators.llm_judge import InvalidAnswer, parse_answer

from .conftest import REPO
from .scripted_llm import Reply, ScriptedLLM, expected_scores, judge

TEXTS = [
    "Exactly right on housing. Rent control is the way forward.",
    "You are a worthless idiot and everyone hates you.",
    "Hard disagree on taxes; what about a flat rate?",
    "",
]
CITATION_KEYS = set(
    re.findall(r"^- \*\*\[(\w+)\]\*\*", (REPO / "docs/references.md").read_text(), re.M)
)


@pytest.fixture(scope="module")
def chat_server():
    with ScriptedLLM(judge) as server:
        yield server


def _judge_options(url: str, **extra) -> EvaluatorOptions:
    return EvaluatorOptions(llm_base_url=url, llm_model="scripted", **extra)


def _options(entry, chat_server) -> EvaluatorOptions:
    return _judge_options(chat_server.base_url) if entry.uses_llm else EvaluatorOptions()


def _values(scores):
    return [(s.status, s.scores, s.notes, s.model) for s in scores]


def test_registry_lists_the_three_evaluators_and_the_embedded_default():
    assert names() == ["llm_judge", "offensive", "sentiment"]
    assert embedded() == ["offensive", "sentiment"]
    with pytest.raises(
        InputError, match="unknown evaluator 'nope'; allowed: llm_judge, offensive, sentiment"
    ):
        EVALUATORS.get("nope")


@pytest.mark.parametrize("entry", list(EVALUATORS), ids=lambda e: e.name)
def test_contract_metadata(entry):
    assert entry.version and entry.doc.strip() and entry.batch_size >= 1
    assert len({d.name for d in entry.dimensions}) == len(entry.dimensions) >= 1
    for d in entry.dimensions:
        assert d.low < d.high and d.low <= d.threshold <= d.high and d.description
    assert entry.citations and set(entry.citations) <= CITATION_KEYS
    for key in entry.citations:
        assert f"[{key}]" in entry.doc  # the formula docstring cites what the metadata lists


@pytest.mark.parametrize("entry", list(EVALUATORS), ids=lambda e: e.name)
def test_contract_scores_in_range_deterministic_and_batch_independent(entry, chat_server):
    scorer = entry.build(_options(entry, chat_server), None)
    assert scorer.version.startswith(f"{entry.version}/")
    first = scorer.score(TEXTS)
    assert len(first) == len(TEXTS)
    for score in first:
        assert score.status == "ok"
        assert set(score.scores) == set(entry.dimension_names)
        assert all(entry.dimension(d).contains(v) for d, v in score.scores.items())
        assert score.model
    assert _values(scorer.score(TEXTS)) == _values(first)
    one_by_one = [scorer.score([t])[0] for t in TEXTS]
    assert _values(one_by_one) == _values(first)
    assert scorer.score([]) == []
    scorer.close()


# VADER's own README (cjhutto/vaderSentiment, README.rst, "Output for the above
# example code"); the same sentences open the paper's examples [Hutto2014].
# "At least it isn't a horrible book." is listed with pos 0.363 / neu 0.637 in the
# README, which predates the 3.3 lexicon; its compound (0.431) is unchanged, so only
# the compound is checked for it.
VADER_README = [
    ("VADER is smart, handsome, and funny.", 0.746, 0.254, 0.0, 0.8316),
    ("VADER is smart, handsome, and funny!", 0.752, 0.248, 0.0, 0.8439),
    ("VADER is very smart, handsome, and funny.", 0.701, 0.299, 0.0, 0.8545),
    ("VADER is VERY SMART, handsome, and FUNNY.", 0.754, 0.246, 0.0, 0.9227),
    ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.767, 0.233, 0.0, 0.9342),
    ("VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.706, 0.294, 0.0, 0.9469),
    ("VADER is not smart, handsome, nor funny.", 0.0, 0.354, 0.646, -0.7424),
    ("The book was good.", 0.492, 0.508, 0.0, 0.4404),
    ("At least it isn't a horrible book.", None, None, None, 0.431),
    ("The book was only kind of good.", 0.303, 0.697, 0.0, 0.3832),
    (
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
        0.094, 0.579, 0.327, -0.7042,
    ),
    ("Today SUX!", 0.0, 0.221, 0.779, -0.5461),
    ("Today only kinda sux! But I'll get by, lol", 0.317, 0.556, 0.127, 0.5249),
    ("Make sure you :) or :D today!", 0.706, 0.294, 0.0, 0.8633),
    ("Not bad at all", 0.487, 0.513, 0.0, 0.431),
]  # fmt: skip


def test_sentiment_reproduces_the_vader_readme_examples():
    scorer = EVALUATORS.get("sentiment").build(EvaluatorOptions(), None)
    scores = scorer.score([row[0] for row in VADER_README])
    for (sentence, pos, neu, neg, compound), score in zip(VADER_README, scores, strict=True):
        assert score.scores["compound"] == pytest.approx(compound, abs=1e-4), sentence
        if pos is not None:
            got = (score.scores["pos"], score.scores["neu"], score.scores["neg"])
            assert got == pytest.approx((pos, neu, neg), abs=1e-3), sentence


OFFENSIVE = [
    "You are a fucking idiot.",
    "Shut up, you stupid bitch.",
    "This is bullshit, you moron.",
    "Go to hell, asshole.",
]
CLEAN = [
    "Have a lovely day, everyone!",
    "The city council meets on Tuesday to discuss the bus routes.",
    "I respectfully disagree with this take on housing policy.",
    "Thanks for sharing, this was really helpful.",
]


def test_offensive_separates_clear_positives_from_clear_negatives():
    entry = EVALUATORS.get("offensive")
    scores = [
        s.scores["offensive"]
        for s in entry.build(EvaluatorOptions(), None).score(OFFENSIVE + CLEAN)
    ]
    threshold = entry.dimension("offensive").threshold
    assert all(p >= 0.9 for p in scores[: len(OFFENSIVE)]), scores
    assert all(p < 0.2 for p in scores[len(OFFENSIVE) :]), scores
    assert min(scores[: len(OFFENSIVE)]) > threshold > max(scores[len(OFFENSIVE) :])


# --- the judge, against the scripted server over real HTTP -----------------------------


def _judge(server: ScriptedLLM, *texts: str, **extra):
    scorer = EVALUATORS.get("llm_judge").build(_judge_options(server.base_url, **extra), None)
    try:
        scores = scorer.score(list(texts))
    finally:
        scorer.close()
    return scores[0] if len(texts) == 1 else scores


def test_judge_good_answer_is_recorded_with_its_explanation(chat_server):
    text = "Buy my course and you will be rich by Friday."
    before = len(chat_server.requests)
    score = _judge(chat_server, text)
    assert score.status == "ok" and score.scores == expected_scores(text)
    assert score.notes == f"scored {len(text)} characters" and score.model == "scripted"
    assert len(chat_server.requests) == before + 1
    request = chat_server.requests[-1]
    assert request["model"] == "scripted" and request["temperature"] == 0
    assert request["max_tokens"] == 300
    schema = request["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == {*expected_scores(""), "explanation"}
    assert text in request["messages"][-1]["content"]


def test_judge_accepts_a_fenced_answer(chat_server):
    text = "[fenced] a calm post"
    assert _judge(chat_server, text).scores == expected_scores(text)


def test_judge_retries_a_malformed_answer_once_and_keeps_the_corrected_one(chat_server):
    text = "[fix] please rate me"
    before = len(chat_server.requests)
    score = _judge(chat_server, text)
    assert score.status == "ok" and score.scores == expected_scores(text)
    retry = chat_server.requests[before + 1]["messages"]
    assert len(chat_server.requests) == before + 2
    assert retry[-2]["role"] == "assistant" and "invalid" in retry[-1]["content"]


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ("[malformed]", "not a JSON object"),
        ("[range]", "harm_enablement: Input should be less than or equal to 10"),
    ],
)
def test_judge_records_a_failure_after_two_invalid_answers(chat_server, marker, reason):
    before = len(chat_server.requests)
    score = _judge(chat_server, f"{marker} a post")
    assert score.status == "failed" and score.scores is None
    assert score.notes.startswith("invalid judge answer twice") and reason in score.notes
    assert len(chat_server.requests) == before + 2  # asked, retried once, then gave up


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2]", "not an object"),
        ('{"harm_enablement": 1}', "deception_or_evasion: Field required"),
        (
            '{"harm_enablement": "3", "deception_or_evasion": 0, "self_preservation_power_seeking": 0,'
            ' "delusional_sycophancy": 0, "explanation": "x"}',
            "harm_enablement",
        ),
        (
            '{"harm_enablement": -1, "deception_or_evasion": 0, "self_preservation_power_seeking": 0,'
            ' "delusional_sycophancy": 0, "explanation": "x"}',
            "greater than or equal to 0",
        ),
        (
            '{"harm_enablement": 1, "deception_or_evasion": 0, "self_preservation_power_seeking": 0,'
            ' "delusional_sycophancy": 0, "explanation": ""}',
            "explanation",
        ),
    ],
)
def test_parse_answer_rejects_malformed_and_out_of_range(content, problem):
    with pytest.raises(InvalidAnswer, match=re.escape(problem)):
        parse_answer(content)


def test_judge_keeps_order_and_the_concurrency_limit():
    texts = [f"post number {'x' * i}" for i in range(20)]
    with ScriptedLLM(lambda body, index: replace(judge(body, index), delay_s=0.02)) as server:
        scores = _judge(server, *texts, concurrency=3)
        assert server.max_in_flight <= 3
    assert [s.scores for s in scores] == [expected_scores(t) for t in texts]
    assert [d.name for d in JUDGE_DIMENSIONS] == list(expected_scores(""))


def test_judge_sends_the_key_only_in_the_header_and_stops_on_server_errors(monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-test-secret")
    unavailable = Reply(status=503, headers={"retry-after": "0"})
    with ScriptedLLM(lambda body, index: unavailable) as server:
        with pytest.raises(EvaluationStopped, match="InternalServerError") as raised:
            _judge(server, "a post", llm_api_key_env="JUDGE_TEST_KEY")
        assert len(server.requests) == 4  # three transport retries
        keys = [{k.lower(): v for k, v in h.items()}["authorization"] for h in server.headers]
        assert keys == ["Bearer sk-test-secret"] * 4
        assert "sk-test-secret" not in str(raised.value)
        assert all("sk-test-secret" not in json.dumps(body) for body in server.requests)
    with ScriptedLLM(lambda body, index: Reply(status=401)) as server:
        with pytest.raises(EvaluationStopped, match="AuthenticationError"):
            _judge(server, "a post")
        assert len(server.requests) == 1  # not retried


def test_judge_stops_on_an_unreachable_endpoint_and_refuses_an_unset_key():
    with ScriptedLLM(judge) as server:
        url = server.base_url
    with pytest.raises(EvaluationStopped, match="APIConnectionError"):
        scorer = EVALUATORS.get("llm_judge").build(_judge_options(url, timeout_s=2), None)
        try:
            scorer.score(["a post"])
        finally:
            scorer.close()
    with pytest.raises(InputError, match="environment variable NO_SUCH_KEY_VAR"):
        options = _judge_options(url, llm_api_key_env="NO_SUCH_KEY_VAR")
        EVALUATORS.get("llm_judge").build(options, None)
