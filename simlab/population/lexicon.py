"""A wider vocabulary for labelling real posts: topic words and partisan cue phrases.

:mod:`simlab.population.topics` holds the few words the synthetic generator
writes with. Real posts use many more, so the labeller
(:mod:`simlab.population.labels`) also counts the words here:

- :data:`TOPIC_WORDS`: per topic, common words of that subject, in the manner of
  the category lexicons of Empath [Fast2016] (seed words widened by hand with
  their everyday synonyms). ``culture`` also holds everyday-life words (food,
  pets, family, weekends), since it is the topic of general chatter.
- :data:`LEFT_CUES` / :data:`RIGHT_CUES`: phrases whose use signals a side, in
  the manner of the partisan phrases of [Gentzkow2010] ("death tax" vs "estate
  tax"): slogans, framings and labels a side uses for itself or for the other.
- :data:`POLITICAL_WORDS`: words that make a text political without telling
  the side (party and office names, "election"): a text with them but with no
  cue gets an *unknown* leaning rather than a neutral one.

Matching is on whole words, lower case, a final ``s`` optional (see labels).
"""

from __future__ import annotations

# fmt: off
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "climate": (
        "climate change", "climate crisis", "global warming", "fossil fuel", "oil", "gas", "coal",
        "solar", "wind power", "heat pump", "pipeline", "wildfire", "flood", "drought",
        "heatwave", "heat", "storm", "hurricane", "pollution", "polluter", "environment",
        "green", "epa", "electric vehicle", "ev", "net zero", "renewable", "sea level",
        "smoke", "power outage", "power", "nuclear", "reactor", "gas stove",
    ),
    "economy": (
        "tax", "taxes", "billionaire", "wage", "paycheck", "salary", "union", "unionize",
        "worker", "strike", "layoff", "laid off", "hiring", "job", "unemployment", "recession",
        "fed", "interest rate", "rates", "stock", "stock market", "retirement", "debt",
        "spending", "budget", "deficit", "grocery", "cost of living", "profit", "corporate",
        "business", "tariff", "shutdown", "minimum wage", "bidenomics", "trillion", "childcare",
        "paid leave", "price", "afford",
    ),
    "health": (
        "healthcare", "health care", "nurse", "doctor", "patient", "insulin", "copay",
        "pharmacy", "flu", "covid", "mandate", "diagnosis", "adhd", "mental health",
        "therapy", "er", "emergency room", "aca", "obamacare", "medicaid", "abortion",
        "pro life", "pro choice", "planned parenthood", "reproductive", "clinic", "cancer",
        "disease", "surgery", "rationing", "coverage", "prescription",
    ),
    "immigration": (
        "immigrant", "ice", "deport", "deportation", "deportations", "illegal", "illegally",
        "undocumented", "sanctuary", "refugee", "green card", "naturalization", "wall",
        "open borders", "fentanyl", "cross", "crossing", "detention", "daca",
    ),
    "technology": (
        "tech", "app", "phone", "laptop", "linux", "code", "model", "chatbot", "algorithm",
        "platform", "social media", "twitter", "elon", "musk", "bluesky", "update",
        "bluetooth", "data privacy", "censor", "censors", "content moderation", "scraped",
        "computer", "crypto", "bitcoin", "robot", "chip", "google", "meta", "apple",
        "microsoft", "openai", "hallucinate",
    ),
    "education": (
        "school board", "school", "classroom", "teacher", "student loan", "student debt",
        "tuition", "university", "graduation", "graduate", "grading", "essay", "homework",
        "district", "kids are taught", "book ban", "library", "reading", "math", "degree",
        "professor", "campus", "kindergarten",
    ),
    "crime": (
        "cop", "officer", "shot", "shooting", "gun", "murder", "theft", "break in",
        "robbery", "arrest", "prosecutor", "jury", "judge", "sentence", "sentencing",
        "offender", "criminal", "bail", "cash bail", "defund", "body cam", "violence",
        "jail", "verdict", "trial", "lawsuit",
    ),
    "sports": (
        "overtime", "playoff", "final", "finish", "win", "won", "score", "coach", "goal",
        "marathon", "race", "run", "football", "soccer", "basketball", "baseball", "hockey",
        "tennis", "golf", "olympic", "athlete", "bullpen", "pitcher", "draft",
        "trade deadline", "fantasy football", "stadium", "champion", "championship",
        "women's team", "compete",
    ),
    "culture": (
        "album", "song", "concert", "band", "film", "show", "series", "novel", "book",
        "reading", "hollywood", "remake", "drag", "church", "tradition", "traditional values",
        "representation", "cooking", "recipe", "sourdough", "bread", "dinner", "lunch",
        "breakfast", "coffee", "tea", "cat", "dog", "puppy", "kitten", "pet", "garden",
        "gardening", "zucchini", "farmers market", "peaches", "tomatoes", "birthday",
        "wedding", "baby", "family", "grandma", "kids", "friend", "weekend", "vacation",
        "hike", "trail", "photo", "puzzle", "board games", "fireplace", "movie marathon",
        "sunrise", "sunset", "nap", "knitting", "painting", "museum", "theater", "comic",
        "anime", "game night", "video game",
    ),
    "science": (
        "scientist", "scientists", "lab", "paper", "trial result", "sequencing", "nasa",
        "jwst", "telescope", "galaxy", "galaxies", "planet", "rocket", "meteor", "eclipse",
        "astronomy", "physics", "biology", "chemistry", "nih", "grant", "experiment",
        "peer review", "journal", "evidence", "the science",
    ),
    "housing": (
        "landlord", "tenant", "eviction", "apartment", "lease", "renewal", "first house",
        "closed on", "house", "home prices", "property tax", "homeless", "encampment",
        "hedge fund", "build", "yimby", "nimby", "housing market", "mortgage rate",
    ),
    "foreign_policy": (
        "ukraine", "russia", "putin", "china", "israel", "gaza", "palestine", "iran", "nato",
        "un", "united nations", "foreign minister", "minister", "talks", "geneva", "sanction",
        "troops", "bombs", "missile", "invasion", "foreign aid", "embassy", "treaty",
        "democracies",
    ),
}

LEFT_CUES: tuple[str, ...] = (
    "tax the rich", "billionaires", "corporate greed", "make polluters pay", "big oil",
    "climate crisis", "climate justice", "solidarity", "unionize", "workers rights",
    "medicare for all", "protect the aca", "reproductive rights", "abortion rights",
    "health emergency", "ration medicine", "abolish ice", "no human being is illegal",
    "immigrants make", "cruelty", "fund public schools", "cancel student debt",
    "book bans", "fight back", "police reform", "police violence", "unarmed", "end cash bail",
    "criminalizes poverty", "representation matters", "drag queen", "equal pay",
    "fund science", "being silenced", "rent control", "tenant union", "human right",
    "housing is a human right", "ceasefire", "stand with ukraine", "far right", "fascist",
    "fascism", "authoritarian", "maga republicans", "project 2025", "vote blue",
    "trump s tariffs", "regulate them", "without consent", "paid family leave",
    "universal childcare", "stop burning fossil fuels", "oil leases", "record profits",
    "glad i left",
)
RIGHT_CUES: tuple[str, ...] = (
    "drill here", "drill now", "drill baby drill", "killing pipelines", "climate alarmists",
    "green crowd", "ban your gas stove", "bidenomics", "cut spending", "out of control",
    "government spending", "kill entry level jobs", "government run healthcare",
    "keep the government out", "medical freedom", "pro life", "every life is precious",
    "finish the wall", "build the wall", "illegally", "illegal aliens", "sanctuary cities",
    "deport them", "mass deportations", "americans first", "america first", "open borders",
    "radical left", "big tech censors", "censors conservatives", "school choice",
    "parents deserve a say", "gender ideology", "soft on crime", "back the blue",
    "defund the police was", "tough sentencing", "keep politics out", "biological males",
    "woke", "traditional values", "bought by grant money", "follow the money",
    "taxpayer money", "property taxes", "enforce the laws", "peace through strength",
    "protect american workers", "death tax", "libs", "leftist", "marxist",
)
POLITICAL_WORDS: tuple[str, ...] = (
    "trump", "biden", "harris", "obama", "congress", "senate", "senator", "house speaker",
    "republican", "republicans", "gop", "democrat", "democrats", "election", "vote",
    "ballot", "governor", "president", "administration", "white house", "supreme court",
    "politics", "political", "policy", "legislation", "bill", "washington", "maga",
)
# fmt: on
