"""The readable reports as a reader of a paper's appendix sees them (issue 13, items 7, 8 and
19): words instead of None, one token-range convention stated once, every summary figure, only
the settings that apply, the answer tokens' top-k as a table, a print stylesheet, and a vote
chart told which answers are correct."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import pytest

from inspector.core.display import TOKEN_RANGE_NOTE, token_range
from inspector.core.session import RunSettings
from inspector.store.export import export
from inspector.store.export.report import display_text
from tests.export.conftest import make_experiment
from tests.store.conftest import cot_session, sc_session, sequence

PNG = b"\x89PNG\r\n\x1a\n"


class VisibleText(HTMLParser):
    """The text a reader sees (no attributes, no style sheet)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._style = False

    def handle_starttag(self, tag, attrs):
        self._style = tag == "style"

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if not self._style:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


class RecordingRenderer:
    """A PlotRenderer that keeps what it was asked to draw."""

    def __init__(self) -> None:
        self.votes_calls: list[tuple[dict, dict]] = []

    def votes(self, votes, correct=None):
        self.votes_calls.append((dict(votes), dict(correct or {})))
        return PNG

    def calibration(self, bins, ece):
        return PNG

    def accuracy_curve(self, points):
        return PNG


def unanswered_session():
    """A self-consistency session whose samples found no answer and that has no gold."""
    session = sc_session([], gold=None)
    for i, text in enumerate((" hmm", " not sure")):
        session.add_path(sequence([(text, 0.5, 0.2)]), "sample", f"sample {i}")
    session.status = "complete"
    return session


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_no_python_none_reaches_a_report(store, tmp_path, fmt):
    session = unanswered_session()
    store.save_session(session)
    exp, _ = make_experiment(store)
    for target in ({"session_id": session.id}, {"experiment_id": exp}):
        out = tmp_path / f"report-{len(target)}-{next(iter(target))}.{fmt}"
        export(store, out, fmt, **target)
        text = out.read_text(encoding="utf-8")
        shown = visible(text) if fmt == "html" else text
        for word in ("None", "null", "nan", "path #None", "path None"):
            assert not re.search(rf"\b{re.escape(word)}\b", shown), (word, target)
    report = (tmp_path / f"report-1-session_id.{fmt}").read_text(encoding="utf-8")
    shown = visible(report) if fmt == "html" else report
    assert "no answer" in shown  # the chosen answer, in words
    assert "—" in shown  # no gold answer


def test_a_token_range_is_its_first_and_last_token_everywhere(store, tmp_path):
    session = cot_session()
    store.save_session(session)
    store.add_annotation(session.id, "lucky guess", path_id=2, token_start=1, token_end=4)
    assert token_range(1, 4) == "tokens 1–3" and token_range(4, 5) == "token 4"
    path = next(p for p in session.paths if p.id == 2)
    assert path.answer_tokens is not None
    answer_at = token_range(*path.answer_tokens)
    for fmt in ("html", "md"):
        out = tmp_path / f"report.{fmt}"
        export(store, out, fmt, session_id=session.id)
        text = out.read_text(encoding="utf-8")
        shown = visible(text) if fmt == "html" else text.replace("\\", "")
        assert "path 2, tokens 1–3" in shown  # the annotation: stored [1, 4), shown 1–3
        assert "tokens 1–4" not in shown
        assert answer_at in shown
        assert shown.count(TOKEN_RANGE_NOTE) == 1  # the convention, stated once


def test_every_summary_figure_and_only_the_settings_that_apply(store, tmp_path):
    sc = sc_session(["8", "8", "5"])
    sc.settings = RunSettings(strategy="self-consistency", samples=3, prompt_style="plain")
    cot = cot_session()
    for session in (sc, cot):
        store.save_session(session)
    out = tmp_path / "sc.html"
    export(store, out, "html", session_id=sc.id)
    shown = visible(out.read_text(encoding="utf-8"))
    summary = sc.summary()
    assert summary.greedy_vs_marginal is not None
    assert f"majority vote 8 (2 of {summary.n_answered} answered paths)" in shown
    assert f"weighted vote 8 ({summary.weighted.count:.2f} of the probability mass)" in shown
    assert "greedy vs marginal" in shown
    assert f"{summary.greedy_vs_marginal.greedy_sequence_probability:.2e}" in shown
    assert "CoT-decoding pick" not in shown  # self-consistency has no such pick
    assert "reference, does not vote" in shown  # the greedy path is marked
    settings = dict(re.findall(r"<tr><td>(\w+)</td><td>([^<]*)</td></tr>", out.read_text()))
    assert {"samples", "temperature", "top_p", "seed"} <= settings.keys()
    assert "k" not in settings and "zero_shot_suffix" not in settings  # plain prompt, no k
    assert settings["answer_probe"] == "off" and "probe_tokens" not in settings
    out = tmp_path / "cot.md"
    export(store, out, "md", session_id=cot.id)
    text = out.read_text(encoding="utf-8")
    assert "| CoT-decoding pick | path #" in text and "| k | 3 |" in text
    assert "| temperature |" not in text and "| seed |" not in text


def test_the_html_report_reads_on_paper(store, tmp_path):
    session = cot_session()
    store.save_session(session)
    out = tmp_path / "report.html"
    export(store, out, "html", session_id=session.id)
    html = out.read_text(encoding="utf-8")
    assert "@media print" in html
    print_css = html[html.index("@media print") :]
    assert ".screen-only { display: none; }" in print_css
    hint = re.search(r'<span class="screen-only">([^<]*)</span>', html)
    assert hint is not None and "hover" in hint.group(1)  # the hover hint is screen-only
    assert html.count("hover") == 1
    # the answer tokens' top-k alternatives as a table, one per answered path
    answered = [p for p in session.paths if p.answer_tokens]
    assert html.count("top-k alternatives (p)") == len(answered)
    path = answered[0]
    token = session.path_tokens(path)[path.answer_tokens[0]]
    alternatives = "; ".join(f"{display_text(a.text)} {a.prob:.4f}" for a in token.top)
    row = (
        f"<tr><td>{path.answer_tokens[0]}</td><td>{escape(display_text(token.text))}</td>"
        f"<td>{token.prob:.4f}</td><td>{escape(alternatives)}</td></tr>"
    )
    assert row in html


def test_the_vote_chart_is_told_which_answers_are_right(store, tmp_path):
    session = sc_session(["5", "8", "8", "7"], gold="8")
    store.save_session(session)
    render = RecordingRenderer()
    export(store, tmp_path / "r.html", "html", session_id=session.id, render=render)
    ((votes, correct),) = render.votes_calls
    assert list(votes) == ["8", "5", "7"]  # most votes first
    assert correct == {"8": True, "5": False, "7": False}
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<figcaption>" in html and "✓ correct, ✗ wrong" in html
    rows = re.findall(r"<tr><td>(\d)</td><td>(\d)</td><td>(\w+)</td></tr>", html)
    assert rows[:3] == [("8", "2", "correct"), ("5", "1", "wrong"), ("7", "1", "wrong")]


def test_an_experiment_report_counts_the_questions_asked_for(store, tmp_path):
    exp, _ = make_experiment(store)  # three questions, all answered
    store.set_experiment_asked(exp, 2)
    store.db.execute(
        "DELETE FROM experiment_runs WHERE experiment_id = ? AND question_index = 2", [exp]
    )
    for fmt in ("html", "md"):
        out = tmp_path / f"experiment.{fmt}"
        export(store, out, fmt, experiment_id=exp)
        assert "2 answered of the 2 asked for (data set: 3)" in out.read_text(encoding="utf-8")
    store.set_experiment_asked(exp, None)  # the whole data set
    export(store, tmp_path / "all.html", "html", experiment_id=exp)
    assert "2 answered of 3" in (tmp_path / "all.html").read_text(encoding="utf-8")
