"""What LLM agents need: the embedded model, an OpenAI-compatible client, a cache, accounting.

``server`` starts the embedded SmolLM2 model, ``client`` talks to any
OpenAI-compatible endpoint, ``cache`` makes runs replayable, ``accounting``
records every call and enforces budgets, ``prompts`` and ``decision`` hold
the agent's prompt and the schema its answer must satisfy.
"""
