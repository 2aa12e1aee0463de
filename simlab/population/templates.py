"""Words for synthetic accounts: display names and post texts built from the topic vocabulary.

A post text fills a template with two distinct keywords of its topic and, for a
post that takes a side, one or two stance phrases of that side
(:mod:`simlab.population.topics`). The templates themselves use no topic
vocabulary, so :func:`simlab.population.labels.label_text` reads back the
topic the post was written about and the side it takes.
"""

from __future__ import annotations

from collections.abc import Sequence

from simlab.population.topics import Topic

# fmt: off
FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Robin", "Drew", "Maya", "Noah", "Lena", "Omar", "Priya", "Mateo", "Ines", "Kofi",
    "Yuki", "Elif", "Sofia", "Liam",
)
LAST_NAMES = (
    "Rivera", "Chen", "Okafor", "Novak", "Schmidt", "Haddad", "Kowalski", "Nguyen", "Silva",
    "Brennan", "Larsen", "Moreau", "Patel", "Kim", "Adeyemi", "Costa", "Fischer", "Murphy",
    "Tanaka", "Ward", "Rossi", "Dubois", "Hughes", "Ortiz",
)
# fmt: on

NEUTRAL = (
    "Interesting piece on {k1} and {k2} this morning.",
    "Anyone else following the {k1} news? Curious what people make of the {k2} angle.",
    "Quick thread on {k1}: what the latest numbers say about {k2}.",
    "Long read about {k1} today. Still thinking about the {k2} part.",
    "Podcast recommendation: a calm hour on {k1} and {k2}.",
    "Trying to understand both sides of the {k1} story before I comment on {k2}.",
)
ONE_STANCE = (
    "Big week for {k1}. We need to talk about {s1}, plain and simple.",
    "Every conversation about {k1} comes back to {s1}. Change my mind.",
    "New numbers on {k1} and {k2} today. {S1} is the answer.",
    "If you care about {k1}, you should care about {s1}.",
    "Town hall on {k1} tonight; the room kept coming back to {s1}.",
    "Hot take: {s1} is the only serious answer on {k1}.",
)
TWO_STANCES = (
    "{S1} and {s2}. That is how we fix {k1}.",
    "Tired of {k1} debates that ignore {s1}. Also: {s2}.",
    "On {k1} and {k2}, my position is simple: {s1}, {s2}.",
    "Watching the {k1} coverage. {S1} now, {s2} next.",
    "Nobody serious about {k1} can skip {s1} or {s2}.",
)
TEMPLATES = (NEUTRAL, ONE_STANCE, TWO_STANCES)
"""Templates by the number of stance phrases they hold (0, 1, 2)."""

MODERATE = 0.1
"""|post leaning| below this: a neutral post, without stance phrases."""
STRONG = 0.5
"""|post leaning| at or above this: two stance phrases."""


def n_stances(leaning: float) -> int:
    """How many stance phrases a post with this leaning carries (0, 1 or 2)."""
    return 0 if abs(leaning) < MODERATE else (1 if abs(leaning) < STRONG else 2)


def post_text(topic: Topic, leaning: float, choice: Sequence[int]) -> str:
    """A post on ``topic`` from the side of ``leaning``.

    Args:
        topic: the post's topic.
        leaning: the post's leaning in [-1, 1]; its sign picks the side, its size
            the number of stance phrases (:func:`n_stances`).
        choice: five random integers (template, keyword, keyword step, stance,
            hashtag) drawn by the caller; any non-negative values are valid.
    """
    template_pick, kw_pick, kw_step, stance_pick, hashtag = choice
    templates = TEMPLATES[n_stances(leaning)]
    words = topic.keywords
    k1 = words[kw_pick % len(words)]
    k2 = words[(kw_pick + 1 + kw_step % (len(words) - 1)) % len(words)]
    side = topic.left if leaning < 0 else topic.right
    s1, s2 = side[stance_pick % len(side)], side[(stance_pick + 1) % len(side)]
    text = templates[template_pick % len(templates)].format(
        k1=k1, k2=k2, s1=s1, s2=s2, S1=s1[0].upper() + s1[1:]
    )
    return f"{text} #{k1.replace(' ', '')}" if hashtag % 4 == 0 else text
