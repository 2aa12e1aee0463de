"""Rule-based agents: a logistic model of liking, commenting and following.

For agent ``a`` served post ``p`` at 0-based slot ``s`` of a feed of size ``k``:

    x_int   = tanh(K · interests[a, topic(p)] − 1)    (0 = average interest over K topics)
    x_agree = 1 − |leaning[a] − leaning(p)|           (1 = same view, −1 = opposite extremes)
    x_pop   = log(1 + likes[p] + comments[p]) / log(1 + 1000)
    x_pos   = s / (k − 1)                             (0 = top of the feed)

    P(like)    = σ(logit(like_propensity[a])    + β_int·x_int + β_agree·x_agree + β_pop·x_pop − β_pos·x_pos)
    P(comment) = σ(logit(comment_propensity[a]) + γ_int·x_int + γ_stance·|x_agree|          − γ_pos·x_pos)
    P(follow)  = σ(logit(follow_propensity[a])  + δ_int·x_int + δ_agree·x_agree + δ_like·liked − δ_pos·x_pos)

with σ the logistic function. An action happens when an independent uniform
draw falls below its probability. A comment agrees when ``x_agree > 0``. An
agent follows a post's author only once, and never one it already follows.
Homophilous engagement follows [McPherson2001]; position bias and popularity
cues follow [Salganik2006]. Every action records its probability, draw and
logit terms in ``generation_metadata_json``, compactly (:mod:`simlab.compact_rows`: the
``*_explained`` views expand it and build the ``explanation`` sentence).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simlab.compact_rows import LOGIT_TERMS
from simlab.params import Params
from simlab.policies.base import ACTION_KINDS, Actions, FeedView, register
from simlab.population.comments import comments as comment_texts

POPULARITY_SCALE = np.log1p(1000.0)
_DIGITS = np.array([f"{n:03d}" for n in range(1000)], dtype=object)  # 3-digit groups
_STRIPPED = np.array([f"{n:03d}".rstrip("0") for n in range(1000)], dtype=object)  # at the end
_POINT_DIGITS, _POINT_STRIPPED = "0." + _DIGITS, "0." + _STRIPPED  # the first group, after "0."
_SIGNED_UNITS = np.array([sign + str(n) for n in range(1000) for sign in ("", "-")], dtype=object)
_FOURTHS = np.array(["." + (f"{n:04d}".rstrip("0") or "0") for n in range(10_000)], dtype=object)


class RuleBasedParams(Params):
    """Coefficients of the logistic action model (see the module docstring)."""

    like_interest: float = Field(0.8, description="β_int: interest match effect on liking")
    like_agreement: float = Field(1.0, description="β_agree: leaning agreement effect on liking")
    like_popularity: float = Field(0.5, description="β_pop: popularity cue effect on liking")
    like_position: float = Field(1.0, description="β_pos: penalty for lower feed positions")
    comment_interest: float = Field(0.8, description="γ_int: interest match effect on commenting")
    comment_stance: float = Field(
        1.0, description="γ_stance: strong (dis)agreement effect on commenting"
    )
    comment_position: float = Field(1.0, description="γ_pos: penalty for lower feed positions")
    follow_interest: float = Field(0.5, description="δ_int: interest match effect on following")
    follow_agreement: float = Field(1.0, description="δ_agree: agreement effect on following")
    follow_like: float = Field(1.0, description="δ_like: boost when the agent liked the post")
    follow_position: float = Field(0.5, description="δ_pos: penalty for lower feed positions")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _features(view: FeedView) -> dict[str, np.ndarray]:
    """(n, k) feature arrays x_int, x_agree, x_pop, x_pos and helpers."""
    pop, state = view.pop, view.state
    valid = view.feeds >= 0
    post = np.where(valid, view.feeds, 0)
    topic = pop.post_topic[post]
    n_topics = max(int((pop.interests.sum(axis=0) > 0).sum()), 1)
    k = view.feeds.shape[1]
    engagement = state.likes(pop) + state.comments(pop)
    return {
        "valid": valid,
        "post": post,
        "topic": topic,
        "x_int": np.tanh(n_topics * pop.interests[view.agents[:, None], topic] - 1.0),
        "x_agree": 1.0 - np.abs(state.leaning[view.agents][:, None] - pop.post_leaning[post]),
        "x_pop": np.log1p(engagement[post]) / POPULARITY_SCALE,
        "x_pos": np.broadcast_to(np.arange(k) / max(k - 1, 1), view.feeds.shape),
    }


def _first_unfollowed_author(view: FeedView, post: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """(n, k) bool: ``wanted`` and the slot holds the first post of an author the agent does not follow yet.

    "First" is among all of the row's slots; whether the agent follows the
    author is looked up only for the wanted first slots (a follow draw that
    succeeded), the few that can become follows.
    """
    author = view.pop.post_author[post]
    order = np.argsort(author, axis=1, kind="stable")
    sorted_author = np.take_along_axis(author, order, axis=1)
    first_sorted = np.ones_like(sorted_author, dtype=bool)
    first_sorted[:, 1:] = sorted_author[:, 1:] != sorted_author[:, :-1]
    first = np.empty_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, axis=1)
    rows, slots = np.nonzero(wanted & first)
    already = view.state.follows.contains(view.agents[rows], author[rows, slots])
    out = np.zeros_like(first)
    out[rows[~already], slots[~already]] = True
    return out


@register("rule_based", "1.0", RuleBasedParams, citations=("McPherson2001", "Salganik2006"))
def decide(view: FeedView, params: RuleBasedParams, rng: np.random.Generator) -> Actions:
    """Draw likes, comments and follows for every active agent's feed (module docstring)."""
    f = _features(view)
    rows = view.agents
    pop = view.pop
    terms = {
        "like": {
            "base": np.broadcast_to(_logit(pop.like_propensity[rows])[:, None], f["x_int"].shape),
            "interest": params.like_interest * f["x_int"],
            "agreement": params.like_agreement * f["x_agree"],
            "popularity": params.like_popularity * f["x_pop"],
            "position": -params.like_position * f["x_pos"],
        },
        "comment": {
            "base": np.broadcast_to(
                _logit(pop.comment_propensity[rows])[:, None], f["x_int"].shape
            ),
            "interest": params.comment_interest * f["x_int"],
            "stance": params.comment_stance * np.abs(f["x_agree"]),
            "position": -params.comment_position * f["x_pos"],
        },
    }
    draws = rng.random((3, *view.feeds.shape))
    p_like = _sigmoid(sum(terms["like"].values()))
    liked = f["valid"] & (draws[0] < p_like)
    terms["follow"] = {
        "base": np.broadcast_to(_logit(pop.follow_propensity[rows])[:, None], f["x_int"].shape),
        "interest": params.follow_interest * f["x_int"],
        "agreement": params.follow_agreement * f["x_agree"],
        "liked": params.follow_like * liked,
        "position": -params.follow_position * f["x_pos"],
    }
    p_comment = _sigmoid(sum(terms["comment"].values()))
    p_follow = _sigmoid(sum(terms["follow"].values()))
    chosen = {
        "like": (liked, p_like, draws[0]),
        "comment": (f["valid"] & (draws[1] < p_comment), p_comment, draws[1]),
        "follow": (
            _first_unfollowed_author(view, f["post"], f["valid"] & (draws[2] < p_follow)),
            p_follow,
            draws[2],
        ),
    }
    return _actions(view, f, terms, chosen, rng)


def _actions(view, f, terms, chosen, rng) -> Actions:
    """The chosen actions in (row, slot, kind) order, with compact metadata and no explanation.

    Metadata is the compact row of :mod:`simlab.compact_rows` (the views expand it
    and build the explanation when read): ``compact_rows.template(kind) % values``,
    joined from columns of number texts, since this runs for every action of every turn.
    """
    kinds = ACTION_KINDS
    mask = np.stack([chosen[kind][0] for kind in kinds])  # (3, n, k)
    kind_idx, rows, slots = np.nonzero(mask)
    order = np.lexsort((kind_idx, slots, rows))
    kind_idx, rows, slots = kind_idx[order], rows[order], slots[order]
    metadata = np.empty(len(order), dtype=object)
    for k, kind in enumerate(kinds):
        at = np.nonzero(kind_idx == k)[0]
        r, s = rows[at], slots[at]
        texts = [
            _fraction_reprs(np.round(chosen[kind][1][r, s], 6)),
            _fraction_reprs(np.round(chosen[kind][2][r, s], 6)),
            _reprs(s + 1),
            *[_term_reprs(terms[kind][name][r, s]) for name in LOGIT_TERMS[kind]],
        ]
        metadata[at] = ["[" + ",".join(values) + "]" for values in zip(*texts, strict=True)]
    explanations: list[str | None] = [None] * len(order)
    texts: list[str | None] = [None] * len(order)
    at = np.flatnonzero(kind_idx == kinds.index("comment"))
    r, s = rows[at], slots[at]
    post = f["post"][r, s]
    post_text = view.pop.post_text
    # comments draw their wording from the policy stream, in action order
    written = comment_texts(
        f["topic"][r, s].tolist(),
        post_text[post].tolist() if post_text is not None else [""] * len(at),
        view.state.leaning[view.agents[r]].tolist(),
        (f["x_agree"][r, s] > 0).tolist(),
        rng,
    )
    for i, text in zip(at.tolist(), written, strict=True):
        texts[i] = text
    return Actions.from_choices(view, kind_idx, rows, slots, texts, explanations, metadata.tolist())


def _reprs(values: np.ndarray) -> list[str]:
    """``repr`` of each integer, formatting each distinct value once (ranks repeat a lot)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([repr(value) for value in distinct.tolist()], dtype=object)[inverse].tolist()


def _term_reprs(values: np.ndarray) -> list[str]:
    """``repr`` of each value rounded to 4 decimals (``np.round(values, 4)``), as a Python float.

    A rounded value ``v = ±N / 10^4`` with ``|v| < 1000`` prints as its sign, the
    integer part of ``N / 10^4``, ``"."`` and the four digits of ``N mod 10^4``
    without trailing zeros (``"0"`` if none): ``repr`` is positional at 0 and for
    1e-4 <= |v| < 1e16, and no shorter decimal rounds to ``v`` (decimals of 4
    places are 1e-4 apart, far more than the spacing of doubles below 1000).
    Those are assembled from two tables, the sign (of ``-0.0`` too) with the
    integer part and the fraction; other values (NaN, infinities, |v| >= 1000)
    go through ``repr``.
    """
    rounded = np.round(np.asarray(values, dtype=np.float64), 4)
    fast = np.abs(rounded) < 1000.0  # False for NaN and the infinities
    scaled = np.rint(np.abs(np.where(fast, rounded, 0.0)) * 1e4).astype(np.int64)
    units, fourths = np.divmod(scaled, 10_000)
    texts = _SIGNED_UNITS[2 * units + np.signbit(rounded)] + _FOURTHS[fourths]
    slow = np.flatnonzero(~fast)
    texts[slow] = [repr(value) for value in rounded[slow].tolist()]
    return texts.tolist()


def _fraction_reprs(values: np.ndarray) -> list[str]:
    """``repr`` of each value, for values rounded to 6 decimals (probabilities and draws).

    A value ``v = N / 10^6`` in [1e-4, 1) prints as ``"0."`` and the six digits of
    ``N`` without trailing zeros: ``repr`` is positional there, and no shorter
    decimal rounds to ``v`` (decimals of 6 places are 1e-6 apart, far more than
    the spacing of doubles). Those are assembled from 3-digit tables; other values
    (0, 1, below 1e-4, NaN) go through ``repr``.
    """
    fast = (values >= 1e-4) & (values < 1.0)
    scaled = np.rint(np.where(fast, values, 0.0) * 1e6).astype(np.int64)
    high, low = np.divmod(scaled, 1000)
    texts = _POINT_STRIPPED[high]  # "0.ddd" when the last three digits are 0
    tail = np.flatnonzero(low)
    texts[tail] = _POINT_DIGITS[high[tail]] + _STRIPPED[low[tail]]
    slow = np.flatnonzero(~fast)
    texts[slow] = [repr(value) for value in values[slow].tolist()]
    return texts.tolist()
