"""html, md, csv and jsonl exports: complete, well-formed, and safe with hostile text."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser

import pytest

from inspector.store.export import export
from inspector.store.export.csv import spreadsheet_safe
from inspector.store.export.md import md
from inspector.ui.shared.plot_render import QtPlotRenderer
from tests.export.conftest import IMG, SCRIPT, make_experiment

PNG = b"\x89PNG\r\n\x1a\n"


class Elements(HTMLParser):
    """Every start tag with its attributes, and all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def render():
    return QtPlotRenderer()


def test_html_escapes_every_user_and_model_text(store, annotated, tmp_path, render):
    out = tmp_path / "report.html"
    export(store, out, "html", session_id=annotated.id, render=render)
    html = out.read_text(encoding="utf-8")
    page = parse(html)
    names = {tag for tag, _ in page.tags}
    assert "script" not in names and "svg" not in names
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
    text = "".join(page.text)
    assert SCRIPT in text and IMG in text  # shown as text
    assert "<svg onload=alert(1)>" in text  # a user's label
    titles = " ".join(attrs.get("title") or "" for _, attrs in page.tags)
    assert IMG.replace('"', '\\"') in titles  # alternatives in the hover title, as text
    assert "http://" not in html and "https://" not in html
    assert "data:image/png;base64," in html
    assert 'class="answer"' in html and "hsl(" in html


def test_html_experiment_has_results_and_plots(store, tmp_path, render):
    exp, _ = make_experiment(store)
    out = tmp_path / "experiment.html"
    export(store, out, "html", experiment_id=exp, render=render)
    html = out.read_text(encoding="utf-8")
    page = parse(html)
    alts = [attrs.get("alt") for tag, attrs in page.tags if tag == "img"]
    assert alts.count("vote distribution") == 3
    assert "reliability diagram" in alts and "accuracy vs samples" in alts
    assert "ECE" in html and "What is 1 + 1?" in html
    assert "http://" not in html and "https://" not in html


def test_html_without_a_renderer_has_tables_only(store, annotated, tmp_path):
    out = tmp_path / "report.html"
    export(store, out, "html", session_id=annotated.id)
    html = out.read_text(encoding="utf-8")
    assert "<img" not in html and "<table>" in html


def test_markdown_writes_its_plots_next_to_it(store, tmp_path, render):
    exp, _ = make_experiment(store)
    out = tmp_path / "report.md"
    result = export(store, out, "md", experiment_id=exp, render=render)
    text = out.read_text(encoding="utf-8")
    images = sorted(p.name for p in (tmp_path / "report_files").iterdir())
    assert images == [
        "accuracy.png",
        "calibration.png",
        "votes-1.png",
        "votes-2.png",
        "votes-3.png",
    ]
    assert all(p.read_bytes().startswith(PNG) for p in result.files[1:])
    assert "](report_files/calibration.png)" in text and "ECE" in text


def test_markdown_escapes_user_text(store, annotated, tmp_path):
    out = tmp_path / "report.md"
    export(store, out, "md", session_id=annotated.id)
    text = out.read_text(encoding="utf-8")
    outside_code = re.sub(r"(?ms)^(`{3,})text\n.*?\n\1$", "", text)
    assert not re.search(r"(?<!\\)<", outside_code)  # every < outside code is escaped
    assert "\\<img src=x onerror=alert(1)\\>" in outside_code
    assert md("a|b `c` <d> *e* &amp;") == r"a\|b \`c\` \<d\> \*e\* \&amp;"
    widths: list[int] = []  # every row of a table has as many cells as its header
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            widths.append(len(re.findall(r"(?<!\\)\|", line)))
        elif widths:
            assert len(set(widths)) == 1, widths
            widths = []


def test_csv_one_row_per_path_and_formula_guard(store, annotated, tmp_path):
    out = tmp_path / "paths.csv"
    export(store, out, "csv", session_id=annotated.id)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["path_id"]) for r in rows] == [p.id for p in annotated.paths]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")) or value.startswith("'")
    assert rows[0]["answer"] == "5" and rows[0]["correct"] == "false"
    assert spreadsheet_safe('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert spreadsheet_safe("-3") == "-3" and spreadsheet_safe("-x+1") == "'-x+1"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)" and spreadsheet_safe(-2.5) == -2.5


def test_csv_experiment_one_row_per_question(store, tmp_path):
    exp, sessions = make_experiment(store)
    out = tmp_path / "exp.csv"
    export(store, out, "csv", experiment_id=exp)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["session_id"] for r in rows] == [s.id for s in sessions]
    assert [r["correct"] for r in rows] == ["true", "false", "true"]
    assert rows[1]["votes"] == "3: 2; 2: 1"


def test_jsonl_holds_only_verified_correct_paths(store, annotated, tmp_path):
    out = tmp_path / "train.jsonl"
    result = export(store, out, "jsonl", session_id=annotated.id)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # path 3 is correct too, but a person labelled it "lucky guess"
    assert result.records == 1 and [r["path_id"] for r in records] == [2]
    assert records[0]["messages"] == [
        {"role": "user", "content": annotated.question},
        {"role": "assistant", "content": "He has 5, 3 + 5 = 8"},
    ]
    assert records[0]["session_id"] == annotated.id

    export(store, out, "jsonl", session_id=annotated.id, pairs=True, force=True)
    (pair,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert pair["prompt"] == annotated.prompt and pair["completion"] == " He has 5, 3 + 5 = 8"


def test_jsonl_experiment(store, tmp_path):
    exp, sessions = make_experiment(store)
    out = tmp_path / "train.jsonl"
    export(store, out, "jsonl", experiment_id=exp)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    correct = {(s.id, p.id) for s in sessions for p in s.paths if p.correct}
    assert {(r["session_id"], r["path_id"]) for r in records} <= correct
    assert {r["session_id"] for r in records} == {s.id for s in sessions}
