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

Each topic also lists a few Spanish words (written without accents: the
labeller drops accents), so Spanish posts get a topic; the cues are English only.
Matching is on whole words, lower case, a final ``s`` optional (see labels).
"""

from __future__ import annotations

# fmt: off
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "climate": (
        "clima", "calor", "sequia", "inundacion", "incendio", "contaminacion",  # Spanish
        "rain", "thunderstorm", "snow", "tornado", "basement flooded", "plastic", "recycling",
        "beach cleanup", "cleanup", "conservation", "wildlife", "deforestation", "emission",
        "electric car", "carbon capture", "fracking", "greenhouse", "ice caps", "glacier",
        "air quality", "heat dome", "forecast", "temperature",
        "climate change", "climate crisis", "global warming", "fossil fuel", "oil", "gas", "coal",
        "solar", "wind power", "heat pump", "pipeline", "wildfire", "flood", "drought",
        "heatwave", "heat", "storm", "hurricane", "pollution", "polluter", "environment",
        "green", "epa", "electric vehicle", "ev", "net zero", "renewable", "sea level",
        "smoke", "power outage", "power", "nuclear", "reactor", "gas stove",
    ),
    "economy": (
        "economia", "empleo", "salario", "impuestos", "precios", "trabajadores", "sindicato",  # Spanish
        "daycare", "groceries", "rent hike", "bills", "savings", "401k", "earnings", "quarterly",
        "gdp", "economist", "bank", "loan", "credit card", "mortgage", "wealth", "poverty",
        "middle class", "labor", "employer", "gig", "overtime pay", "benefits", "pension",
        "inflation rate", "consumer", "trade deal", "supply chain",
        "tax", "taxes", "billionaire", "wage", "paycheck", "salary", "union", "unionize",
        "worker", "strike", "layoff", "laid off", "hiring", "job", "unemployment", "recession",
        "fed", "interest rate", "rates", "stock", "stock market", "retirement", "debt",
        "spending", "budget", "deficit", "grocery", "cost of living", "profit", "corporate",
        "business", "tariff", "shutdown", "minimum wage", "bidenomics", "trillion", "childcare",
        "paid leave", "price", "afford",
    ),
    "health": (
        "salud", "hospital", "medico", "vacuna", "sanidad", "enfermedad",  # Spanish
        "sick", "illness", "bankrupt", "medical bill", "single payer", "dental", "dentist",
        "physical therapy", "physio", "injury", "knee", "back pain", "pandemic", "masks",
        "vaccination", "booster", "measles", "hospital bill", "medication", "pills", "pharma",
        "big pharma", "nursing home", "caregiver", "anxiety", "depression", "sleep", "diet",
        "healthcare", "health care", "nurse", "doctor", "patient", "insulin", "copay",
        "pharmacy", "flu", "covid", "mandate", "diagnosis", "adhd", "mental health",
        "therapy", "er", "emergency room", "aca", "obamacare", "medicaid", "abortion",
        "pro life", "pro choice", "planned parenthood", "reproductive", "clinic", "cancer",
        "disease", "surgery", "rationing", "coverage", "prescription",
    ),
    "immigration": (
        "inmigracion", "inmigrantes", "frontera", "migrantes", "refugiados", "asilo",  # Spanish
        "migrant", "released", "interior", "sponsor", "sponsored", "visa lottery", "work permit",
        "border patrol", "cbp", "caravan", "green card holder", "newcomer", "resettlement",
        "foreign born", "h1b", "amnesty",
        "immigrant", "ice", "deport", "deportation", "deportations", "illegal", "illegally",
        "undocumented", "sanctuary", "refugee", "green card", "naturalization", "wall",
        "open borders", "fentanyl", "cross", "crossing", "detention", "daca",
    ),
    "technology": (
        "tecnologia", "internet", "redes sociales", "inteligencia artificial",  # Spanish
        "headphones", "gadget", "smartphone", "iphone", "android", "tablet", "encryption",
        "encrypted", "backdoor", "hack", "hacker", "cybersecurity", "password", "cloud",
        "server", "startup", "silicon valley", "ai", "llm", "machine learning", "automation",
        "data center", "streaming", "subscription", "wifi", "gaming pc", "website", "browser",
        "tech", "app", "phone", "laptop", "linux", "code", "model", "chatbot", "algorithm",
        "platform", "social media", "twitter", "elon", "musk", "bluesky", "update",
        "bluetooth", "data privacy", "censor", "censors", "content moderation", "scraped",
        "computer", "crypto", "bitcoin", "robot", "chip", "google", "meta", "apple",
        "microsoft", "openai", "hallucinate",
    ),
    "education": (
        "escuela", "educacion", "maestros", "estudiantes", "universidad",  # Spanish
        "substitute teacher", "semester", "charter", "voucher", "curriculum", "textbook",
        "principal", "pta", "school lunch", "recess", "exam", "test scores", "scholarship",
        "student", "preschool", "homeschool", "literacy", "lecture", "thesis", "phd",
        "school board", "school", "classroom", "teacher", "student loan", "student debt",
        "tuition", "university", "graduation", "graduate", "grading", "essay", "homework",
        "district", "kids are taught", "book ban", "library", "reading", "math", "degree",
        "professor", "campus", "kindergarten",
    ),
    "crime": (
        "policia", "crimen", "delito", "carcel", "justicia",  # Spanish
        "stolen", "steal", "doorbell camera", "burglary", "carjacking", "assault", "victim",
        "victims", "kneeling", "incarceration", "parole", "prison reform", "sheriff", "detective",
        "fraud", "scam", "police", "cops", "crime rate", "gang", "drugs", "overdose",
        "cop", "officer", "shot", "shooting", "gun", "murder", "theft", "break in",
        "robbery", "arrest", "prosecutor", "jury", "judge", "sentence", "sentencing",
        "offender", "criminal", "bail", "cash bail", "defund", "body cam", "violence",
        "jail", "verdict", "trial", "lawsuit",
    ),
    "sports": (
        "futbol", "partido", "equipo", "gol", "liga",  # Spanish
        "little league", "county title", "title", "tournament", "match day", "kickoff", "inning",
        "touchdown", "home run", "world cup", "super bowl", "nba", "nfl", "mlb", "nhl", "f1",
        "cycling", "swim", "gym", "workout", "training", "5k", "10k", "fan", "fans", "refs",
        "overtime", "playoff", "final", "finish", "win", "won", "score", "coach", "goal",
        "marathon", "race", "run", "football", "soccer", "basketball", "baseball", "hockey",
        "tennis", "golf", "olympic", "athlete", "bullpen", "pitcher", "draft",
        "trade deadline", "fantasy football", "stadium", "champion", "championship",
        "women's team", "compete",
    ),
    "culture": (
        "musica", "pelicula", "libro", "familia", "cafe", "fiesta",  # Spanish
        "cinnamon rolls", "baked", "baking", "cookies", "cake", "pizza", "tacos", "soup",
        "neighbors", "nursery", "soundtrack", "exhibit", "artist", "artists", "gallery",
        "poetry", "podcast", "tv", "episode", "season finale", "celebrity", "fashion", "brand",
        "brands", "holiday", "christmas", "thanksgiving", "halloween", "mom", "dad", "sister",
        "brother", "grandpa", "wife", "husband", "kid", "toddler", "fridge", "kitchen", "house plant",
        "plants", "bird", "birds", "beach", "camping", "road trip", "travel", "flight",
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
        "ciencia", "investigacion", "estudio", "cientificos",  # Spanish
        "gene therapy", "gene", "dna", "sickle cell", "clinical trial", "trial results",
        "saturn", "jupiter", "mars", "moon", "stars", "asteroid", "climate model", "fossil",
        "dinosaur", "archaeology", "neuroscience", "vaccine research", "study finds",
        "researchers", "public research", "funding cuts",
        "scientist", "scientists", "lab", "paper", "trial result", "sequencing", "nasa",
        "jwst", "telescope", "galaxy", "galaxies", "planet", "rocket", "meteor", "eclipse",
        "astronomy", "physics", "biology", "chemistry", "nih", "grant", "experiment",
        "peer review", "journal", "evidence", "the science",
    ),
    "housing": (
        "vivienda", "alquiler", "alquileres", "desahucio", "inquilinos", "hipoteca",  # Spanish
        "corporate landlords", "rents", "rent", "neighborhood", "homeowner", "homeowners",
        "condo", "realtor", "real estate", "down payment", "property", "housing costs",
        "shelter", "affordable", "units", "developer", "density", "homes",
        "landlord", "tenant", "eviction", "apartment", "lease", "renewal", "first house",
        "closed on", "house", "home prices", "property tax", "homeless", "encampment",
        "hedge fund", "build", "yimby", "nimby", "housing market", "mortgage rate",
    ),
    "foreign_policy": (
        "guerra", "paz", "aliados", "diplomacia",  # Spanish
        "sanctions", "endless wars", "overseas", "veterans", "war", "wars", "allies", "ally",
        "peace talks", "ceasefire deal", "hostages", "refugee camp", "summit", "g7", "foreign policy",
        "state department", "pentagon", "defense budget", "drone strike", "occupation",
        "ukraine", "russia", "putin", "china", "israel", "gaza", "palestine", "iran", "nato",
        "united nations", "foreign minister", "minister", "talks", "geneva", "sanction",
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
    "glad i left", "single payer", "corporate landlords", "jacking rents", "fig leaf",
    "fossil fuel industry", "mass incarceration", "kneeling for justice", "refugees",
    "defunding public research", "tech billionaires", "long overdue", "sanctions on russia",
    "living wage", "workers deserve", "green new deal", "reproductive freedom", "trans rights",
    "gun safety", "gun violence", "assault weapons ban", "voting rights", "book banning",
    "union busting", "climate action", "public transit", "medicaid cuts", "billionaire",
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
    "being forced on", "forced on people", "criminals have more rights", "endless wars",
    "bring them home", "released into", "government wants a backdoor", "second amendment",
    "gun rights", "illegal immigrants", "border crisis", "election integrity", "law abiding",
    "nanny state", "big government", "job creators", "red tape", "lower taxes",
    "communist", "socialism", "socialist", "globalist", "deep state", "patriots", "patriot",
)
POLITICAL_WORDS: tuple[str, ...] = (
    "trump", "biden", "harris", "obama", "congress", "senate", "senator", "house speaker",
    "republican", "republicans", "gop", "democrat", "democrats", "election", "vote",
    "ballot", "governor", "president", "administration", "white house", "supreme court",
    "politics", "political", "policy", "legislation", "bill", "washington", "maga",
)
# fmt: on
