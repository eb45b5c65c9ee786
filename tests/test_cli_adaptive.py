"""`inspector run --strategy adaptive` on the real default model: every setting reaches the
saved session, the JSON and the text give the saved tree's explored mass and marginal, and a
setting that cannot branch gets one clear message before anything is saved."""

from __future__ import annotations

import json
import math

import pytest

from inspector.cli import main
from inspector.store import Store

APPLE = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"
ADAPTIVE = [
    "--strategy", "adaptive", "--branch-entropy", "3.0", "--branch-margin", "0.12",
    "--branch-min-prob", "0.06", "--branch-width", "1", "--branch-depth", "2",
    "--token-budget", "600", "--max-tokens", "16", "--gold", "8",
]  # fmt: skip


def test_an_adaptive_run_prints_the_saved_trees_mass_and_marginal(capsys, tmp_path, model_path):
    db = str(tmp_path / "sessions.db")
    assert main(["run", APPLE, *ADAPTIVE, "--db", db, "--model", str(model_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    with Store.open(db) as store:
        saved = store.load_session(out["session_id"])
    s = saved.settings
    assert (s.branch_entropy, s.branch_margin, s.branch_min_prob) == (3.0, 0.12, 0.06)
    assert (s.branch_width, s.branch_depth, s.token_budget) == (1, 2, 600)
    assert s.adaptive_sample is False and saved.status == "complete"
    marginal = out["marginal"]
    leaves = [p for p in saved.paths if p.finished]
    assert marginal["leaves"] == len(leaves) > 1
    assert marginal["explored_mass"] == pytest.approx(sum(math.exp(p.logprob) for p in leaves))
    answered: dict[str, float] = {}
    for path in leaves:
        if path.answer is not None:
            answered[path.answer] = answered.get(path.answer, 0.0) + math.exp(path.logprob)
    assert marginal["lower_bound"] == pytest.approx(answered)
    assert out["chosen_answer"] == marginal["answer"] == max(answered, key=answered.__getitem__)
    # the budget held: what the paths decoded themselves (a branch's own tokens)
    decoded = sum(p.n_tokens - (p.branch_depth or 0) for p in saved.paths)
    assert decoded <= 600
    # the text output gives the same figures, in words
    assert main(["run", APPLE, *ADAPTIVE, "--db", db, "--model", str(model_path)]) == 0
    text = capsys.readouterr().out
    assert f"explored: {len(leaves)} leaves, probability mass" in text
    assert f"marginal answer: {marginal['answer']}" in text
    assert "branch token" in text and "None" not in text


def test_settings_that_cannot_branch_are_refused_before_anything_is_saved(capsys, tmp_path):
    db = tmp_path / "sessions.db"
    argv = ["run", APPLE, "--strategy", "adaptive", "--branch-width", "5", "--db", str(db)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "adaptive branching into 5 alternatives needs more than 5 alternatives" in err
    with pytest.raises(SystemExit):
        main(["run", APPLE, "--strategy", "adaptive", "--branch-depth", "13", "--db", str(db)])
    assert "argument --branch-depth: must be 1–12, got 13" in capsys.readouterr().err
    with Store.open(db) as store:
        assert store.list_sessions() == []
