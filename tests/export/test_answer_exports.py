"""The readable exports show how each answer was found (issue 11): the rule, unfinished paths
marked, thinking and answer token counts, the answer probe apart from the path's text, the
finished/answered counts with Δ's range, and the selection rules beside pass@k."""

from __future__ import annotations

import csv
import re

import pytest

from inspector.store.export import export
from tests.export.conftest import IMG, SCRIPT, make_experiment
from tests.store.conftest import probe_session

PATHS_LINE = (
    "2 of 4 paths finished, 2 answered (2 hit the token limit) · Δ of answered paths 0.500–0.850"
)


@pytest.fixture
def saved(store):
    """probe_session with hostile text in its probe."""
    session = probe_session()
    probe = session.paths[1].probe
    assert probe is not None
    probe.text = f"{SCRIPT} So the answer is"
    probe.tokens[0] = type(probe.tokens[0])(9, IMG, IMG.encode(), 0.0, 0.1, probe.tokens[0].top)
    session.evaluate_path(session.paths[1])
    store.save_session(session)
    return session


def test_html_shows_rules_unfinished_paths_and_the_probe(store, saved, tmp_path):
    out = tmp_path / "report.html"
    export(store, out, "html", session_id=saved.id)
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page  # the probe's text is escaped
    assert "&lt;script&gt;" in page and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert PATHS_LINE in page
    assert "answer <b>8</b> <small>(found by answer-is)</small>" in page
    assert "7 tokens: 4 thinking, 3 answer" in page
    assert "<small>(from the answer probe)</small>" in page
    assert '<span class="unfinished">⚠ unfinished: hit the token limit, inside its thinking' in page
    assert '<span class="unfinished">⚠ unfinished: hit the token limit</span>' in page
    assert page.count('class="unfinished"') == 2  # paths 0 and 1 completed
    # the probe is a block of its own after the path's tokens, its answer and Δ stated
    path1 = page[page.index("<h4>Path 1:") : page.index("<h4>Path 2:")]
    own, probe = path1.split('<div class="probe">')
    assert " So" not in own and " unsure" in own
    assert "Answer probe (not part of the path's text)" in probe
    assert "answer 8 · Δ 0.500" in probe and 'class="tok forced"' in probe
    assert "<td>CoT pick</td><td>8</td><td>correct</td>" in page


def test_markdown_shows_the_same(store, saved, tmp_path):
    out = tmp_path / "report.md"
    export(store, out, "md", session_id=saved.id)
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<script", text) and "\\<script\\>" in text
    assert PATHS_LINE in text
    assert "answer **8** (token 5), found by answer-is" in text  # one token: "token 5"
    assert "7 tokens: 4 thinking, 3 answer" in text
    assert "⚠ **unfinished: hit the token limit, inside its thinking**" in text
    assert "Answer probe (not part of the path's text):" in text
    assert "answer 8 · Δ 0.500" in text and "| probe text |" in text
    assert "| thinking |" in text  # the thinking tokens are marked in the token table
    assert "| CoT pick | 8 | correct |" in text


def test_csv_has_the_new_columns(store, saved, tmp_path):
    out = tmp_path / "paths.csv"
    export(store, out, "csv", session_id=saved.id)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    picked = [
        (
            r["completed"],
            r["answer"],
            r["answer_rule"],
            r["thinking_tokens"],
            r["answer_part_tokens"],
        )
        for r in rows
    ]
    assert picked == [
        ("true", "8", "answer-is", "4", "3"),
        ("true", "8", "probe", "0", "3"),
        ("false", "", "", "3", "0"),
        ("false", "", "", "0", "3"),
    ]
    assert rows[1]["probe_text"].endswith(" So the answer is") and rows[1]["probe_answer"] == "8"
    assert float(rows[1]["probe_confidence"]) == pytest.approx(0.5)
    assert rows[0]["probe_text"] == ""


def test_experiment_reports_have_the_selection_table(store, tmp_path):
    exp, _ = make_experiment(store)
    # by hand (tests/export/conftest.py): greedy's reference says 5 every time (wrong); the
    # votes and the Δ pick are right on questions 1 and 3 but not 2 (3, 3, 2 against gold 2),
    # where a correct path still exists: pass@k 1, gap 1 − 2/3
    row = ["self-consistency", "3", "0.000", "0.667", "0.667", "0.667", "0.667", "1.000"]
    row += ["0.333", "9 / 9 of 9"]
    html_out, md_out, csv_out = (tmp_path / f"exp.{x}" for x in ("html", "md", "csv"))
    export(store, html_out, "html", experiment_id=exp)
    page = html_out.read_text(encoding="utf-8")
    assert "Selection rules: accuracy of each, and pass@k" in page
    assert "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" in page
    export(store, md_out, "md", experiment_id=exp)
    assert "| " + " | ".join(row) + " |" in md_out.read_text(encoding="utf-8")
    export(store, csv_out, "csv", experiment_id=exp)
    with csv_out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["pass_at_k"] for r in rows] == ["true", "true", "true"]
    assert [r["majority_answer"] for r in rows] == ["0", "3", "4"]
    assert [r["greedy_answer"] for r in rows] == ["5", "5", "5"]
    assert [r["paths_finished"] for r in rows] == ["3", "3", "3"]
