"""The topic vocabulary shared by the synthetic generator and the text labeller.

Each topic has words that signal it and, per side of the leaning divide, words
that signal a stance; the synthetic generator writes posts from them and
:mod:`simlab.population.labels` reads them back to label imported posts.
"""

from __future__ import annotations

from typing import NamedTuple


class Topic(NamedTuple):
    """A topic: its name, neutral keywords, and stance keywords for each side."""

    name: str
    keywords: tuple[str, ...]
    left: tuple[str, ...]
    right: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic(
        "climate",
        ("climate", "emissions", "warming", "carbon", "energy", "weather"),
        ("climate justice", "renewables", "green new deal", "carbon tax"),
        ("energy independence", "drilling", "nuclear power", "overregulation"),
    ),
    Topic(
        "economy",
        ("economy", "inflation", "jobs", "wages", "prices", "markets"),
        ("living wage", "union", "inequality", "tax the rich"),
        ("tax cuts", "free market", "small business", "deregulation"),
    ),
    Topic(
        "health",
        ("health", "hospital", "doctors", "insurance", "medicine", "vaccine"),
        ("universal healthcare", "medicare for all", "public option", "drug prices"),
        ("private insurance", "medical freedom", "patient choice", "health savings accounts"),
    ),
    Topic(
        "immigration",
        ("immigration", "border", "migrants", "asylum", "visa", "citizenship"),
        ("refugees welcome", "path to citizenship", "dreamers", "humane"),
        ("secure the border", "illegal crossings", "deportation", "border wall"),
    ),
    Topic(
        "technology",
        ("technology", "ai", "software", "startups", "privacy", "internet"),
        ("big tech monopoly", "data rights", "algorithmic bias", "antitrust"),
        ("innovation", "censorship", "free speech online", "light regulation"),
    ),
    Topic(
        "education",
        ("education", "schools", "teachers", "students", "college", "curriculum"),
        ("student debt relief", "public schools", "teacher pay", "free college"),
        ("school choice", "parental rights", "charter schools", "vouchers"),
    ),
    Topic(
        "crime",
        ("crime", "police", "safety", "courts", "prison", "justice"),
        ("police reform", "mass incarceration", "restorative justice", "bail reform"),
        ("back the blue", "law and order", "tough on crime", "victims first"),
    ),
    Topic(
        "sports",
        ("game", "team", "season", "league", "match", "players"),
        ("pay equity", "athlete activism", "community sports", "inclusion"),
        ("tradition", "keep politics out", "hometown pride", "fair competition"),
    ),
    Topic(
        "culture",
        ("movie", "music", "books", "art", "television", "festival"),
        ("representation", "diverse voices", "indie artists", "progressive"),
        ("classic values", "family friendly", "heritage", "traditional"),
    ),
    Topic(
        "science",
        ("science", "research", "space", "study", "data", "discovery"),
        ("fund science", "evidence based policy", "public research", "open access"),
        ("private space", "cut waste", "practical research", "industry led"),
    ),
    Topic(
        "housing",
        ("housing", "rent", "homes", "mortgage", "zoning", "neighborhood"),
        ("rent control", "tenant rights", "social housing", "affordable housing"),
        ("property rights", "homeownership", "lower taxes", "local control"),
    ),
    Topic(
        "foreign_policy",
        ("foreign", "war", "allies", "trade", "diplomacy", "military"),
        ("diplomacy first", "human rights", "multilateral", "ceasefire"),
        ("strong military", "america first", "peace through strength", "tariffs"),
    ),
)

TOPIC_NAMES: tuple[str, ...] = tuple(t.name for t in TOPICS)
