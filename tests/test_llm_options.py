"""The --llm-* / --budget-* flags: one definition, the same flags and help on every command."""

from __future__ import annotations

import typer.main

from simlab.cli import app
from simlab.cli.run_commands import llm_overrides

SHARED = (
    "llm_base_url", "llm_model", "llm_api_key_env", "llm_cache", "llm_max_tokens",
    "budget_tokens", "budget_cost", "budget_alert", "budget_action",
)  # fmt: skip


def _params(command: str) -> dict:
    click_command = typer.main.get_command(app).commands[command]
    return {p.name: p for p in click_command.params}


def test_run_and_evaluate_share_every_llm_and_budget_flag():
    run, evaluate = _params("run"), _params("evaluate")
    for name in SHARED:
        assert run[name].opts == evaluate[name].opts == [f"--{name.replace('_', '-')}"]
        assert run[name].help == evaluate[name].help and run[name].default is None
        assert evaluate[name].default is None  # not given: the settings' own default applies
    assert run["llm_concurrency"].help == evaluate["concurrency"].help


def test_only_given_flags_become_run_config_overrides():
    flags = {"share": 0.5, "agents": None, "base_url": None, "model": "m", "max_tokens": 64,
             "budget_tokens": 100, "budget_cost": None, "budget_action": "block"}  # fmt: skip
    assert llm_overrides(flags) == {
        "policy": {"params": {"share": 0.5}},
        "llm": {
            "sampling": {"max_tokens": 64},
            "budget": {"tokens": 100, "action": "block"},
            "model": "m",
        },
    }
    assert llm_overrides(dict.fromkeys(flags)) == {}
