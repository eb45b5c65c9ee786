"""The HTML report: one self-contained file (inline CSS, plots as ``data:`` PNGs, no scripts).

Every piece of model or user text goes through :func:`html.escape` (also inside attributes),
and a Content-Security-Policy forbids scripts and any network access as a second line of
defence.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable

from inspector.core.display import (
    TOKEN_RANGE_NOTE,
    answer_or_none,
    fmt,
    label_words,
    text_or_dash,
    verdict,
)
from inspector.core.run_stats import SELECTION_HELP
from inspector.core.tree import ROOT_ID
from inspector.store.export.report import (
    ExperimentReport,
    ProbeTokenView,
    Report,
    SessionReport,
    TokenView,
    annotation_target,
    answer_source,
    answer_token_rows,
    answer_where,
    applicable_settings,
    display_text,
    probe_summary,
    probe_views,
    selection_gap_rows,
    selection_header,
    selection_rows,
    settings_rows,
    sorted_votes,
    summary_rows,
    token_counts,
    token_views,
    unfinished_reason,
)
from inspector.store.rows import Annotation

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1, h2, h3 { line-height: 1.2; } section.session { border-top: 2px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
pre, .tokens { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: #f6f6f6; padding: .5em; }
.tokens { border: 1px solid #ddd; padding: .4em; line-height: 1.9; }
.tok { border-radius: 2px; }
mark.answer { background: none; outline: 2px solid #1565c0; outline-offset: 1px; }
.after-stop { opacity: .45; }
.correct { color: #2e7d32; } .wrong { color: #c62828; }
ul.tree { font-family: ui-monospace, monospace; font-size: 13px; }
.node { color: #888; } .ends { color: #1565c0; }
img.plot { max-width: 100%; border: 1px solid #eee; }
.legend span { padding: 0 .6em; }
.unfinished { color: #b26a00; font-weight: bold; }
.probe { border-left: 3px solid #7e57c2; padding-left: .6em; margin: .4em 0; }
.forced { opacity: .55; font-style: italic; }
figure { margin: .5em 0; } figcaption { font-size: 13px; color: #555; }
.note { font-size: 13px; color: #444; }
@media print {
  @page { margin: 16mm 14mm; }
  body { font-size: 10pt; margin: 0; max-width: none; color: #000; }
  .screen-only { display: none; }
  section.session { break-before: page; border-top: none; margin-top: 0; }
  h2, h3, h4 { break-after: avoid; }
  table, figure, .probe { break-inside: avoid; }
  pre, .tokens { font-size: 8.5pt; }
  pre { background: none; border: 1px solid #ccc; }
  .tok, .legend span { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  img.plot { max-width: 14cm; border: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def e(value: object) -> str:
    """Escaped text (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def probability_background(prob: float) -> str:
    """Red (unlikely) through amber to green (certain), as in the app."""
    return f"hsl({120 * min(1.0, max(0.0, prob)):.0f}, 75%, 80%)"


def render_html(report: Report) -> str:
    parts = [
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n",
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n',
        f"<title>{e(report.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        f"<h1>{e(report.title)}</h1>\n",
        _legend(),
    ]
    if report.experiment is not None:
        parts.append(_experiment(report.experiment, report.sessions))
    for number, item in enumerate(report.sessions):
        parts.append(_session(item, number))
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _legend() -> str:
    stops = "".join(
        f'<span style="background:{probability_background(p)}">p={p:.2f}</span>'
        for p in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    return (
        f'<p class="legend">Token colour = probability of the chosen token: {stops} · '
        '<mark class="answer">answer span</mark><span class="screen-only"> · hover a token '
        "for its top-k alternatives.</span> Each answer's tokens and their top-k alternatives "
        f"are also listed in a table under its path. {e(TOKEN_RANGE_NOTE)}</p>\n"
    )


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>\n" for row in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}</table>\n"


def _image(png: bytes | None, alt: str, caption: str = "") -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    below = f"<figcaption>{e(caption)}</figcaption>" if caption else ""
    return (
        f'<figure><img class="plot" alt="{e(alt)}" src="data:image/png;base64,{data}">'
        f"{below}</figure>\n"
    )


def _experiment(experiment: ExperimentReport, sessions: list[SessionReport]) -> str:
    anchors = {item.session.id: n for n, item in enumerate(sessions)}
    calibration = experiment.calibration
    rows = [
        (
            r.question_index + 1,
            r.question,
            text_or_dash(r.gold),
            answer_or_none(r.chosen_answer),
            verdict(r.correct),
            fmt(r.consistency, 2),
        )
        for r in experiment.results
    ]
    model = str(experiment.model.get("description") or experiment.model.get("path") or "—")
    about = f"{model} · {experiment.strategy} · experiment {experiment.id}: {experiment.name}"
    results = _table(("#", "question", "gold", "chosen", "verdict", "consistency"), rows)
    links = " ".join(
        f'<a href="#session-{anchors[r.session_id]}">#{r.question_index + 1}</a>'
        for r in experiment.results
        if r.session_id in anchors
    )
    bins = [
        (f"{b.lower:.1f}–{b.upper:.1f}", b.count, fmt(b.mean_confidence), fmt(b.accuracy))
        for b in calibration.bins
    ]
    curve = [(p.n, fmt(p.accuracy), p.questions) for p in experiment.curve]
    return "".join(
        [
            "<section class=experiment>\n<h2>Experiment</h2>\n",
            _table(
                ("name", "data set", "strategy", "status", "created", "accuracy", "questions"),
                [
                    (
                        experiment.name,
                        experiment.dataset,
                        experiment.strategy,
                        experiment.status,
                        experiment.created,
                        fmt(experiment.accuracy),
                        experiment.questions_line,
                    )
                ],
            ),
            "<h3>Settings</h3>\n",
            _table(("setting", "value"), applicable_settings(experiment.settings)),
            "<h3>Model</h3>\n",
            _table(("field", "value"), settings_rows(experiment.model)),
            "<h3>Results</h3>\n",
            results,
            f"<p>Sessions: {links}</p>\n" if links else "",
            "<h3>Calibration (consistency vs accuracy)</h3>\n",
            _image(
                experiment.calibration_png,
                "reliability diagram",
                f"Reliability diagram: accuracy per consistency bin, {calibration.n} runs "
                f"({about}). Each bar is labelled with its runs; the dashed line is perfect "
                "calibration.",
            ),
            f"<p>ECE {e(fmt(calibration.ece))} · Brier {e(fmt(calibration.brier))} · "
            f"{calibration.n} runs</p>\n",
            _table(("bin", "count", "mean confidence", "accuracy"), bins),
            "<h3>Accuracy vs number of samples</h3>\n",
            _image(
                experiment.curve_png,
                "accuracy vs samples",
                f"Majority-vote accuracy against the number of sampled paths ({about}).",
            ),
            _table(("samples", "accuracy", "questions"), curve),
            "<h3>Selection rules: accuracy of each, and pass@k</h3>\n",
            _table(
                selection_header(experiment.selection), selection_gap_rows(experiment.selection)
            ),
            f"<p><small>{e(SELECTION_HELP)}; gap: pass@k − the strategy's own accuracy."
            "</small></p>\n",
            "</section>\n",
        ]
    )


def _session(item: SessionReport, number: int) -> str:
    session, summary = item.session, item.summary
    info = [
        ("session id", session.id),
        ("status", session.status + (" (deleted)" if item.deleted else "")),
        ("created", session.created),
        ("strategy", f"{session.settings.strategy} · prompt {session.settings.prompt_style}"),
        *summary_rows(item),
    ]
    correct = item.vote_correctness()
    votes = [(a, n, verdict(correct.get(a))) for a, n in sorted_votes(summary).items()]
    model = str(session.model.get("description") or session.model.get("path") or "—")
    caption = (
        f"Votes of the {summary.n_answered} answered paths ({model} · "
        f"{session.settings.strategy}); bars coloured by correctness against the gold answer, "
        "✓ correct, ✗ wrong."
        if session.gold is not None
        else f"Votes of the {summary.n_answered} answered paths ({model} · "
        f"{session.settings.strategy}); no gold answer."
    )
    return "".join(
        [
            f'<section class="session" id="session-{number}">\n',
            f"<h2>Session {number + 1}: {e(session.title or session.question)}</h2>\n",
            f"<h3>Question</h3>\n<pre>{e(session.question)}</pre>\n",
            _table(("field", "value"), info),
            f"<h3>Prompt</h3>\n<pre>{e(session.prompt)}</pre>\n",
            "<h3>Settings</h3>\n",
            _table(("setting", "value"), applicable_settings(session.settings.to_dict())),
            "<h3>Model</h3>\n",
            _table(("field", "value"), settings_rows(session.model)),
            "<h3>Votes</h3>\n",
            _image(item.votes_png, "vote distribution", caption),
            _table(("answer", "votes", "verdict"), votes) if votes else "<p>No answers.</p>\n",
            "<p><small>Only answered paths vote; consistency is the share of the answered "
            "voting paths that agree with the majority.</small></p>\n",
            "<h3>Selection rules</h3>\n",
            _table(("rule", "answer", "verdict"), selection_rows(session, summary)),
            "<h3>Tree</h3>\n",
            _tree(item),
            "<h3>Paths</h3>\n",
            "".join(_path(item, path.id) for path in session.paths),
            _annotations(item.path_annotations(None), "Session annotations"),
            _studies(item),
            "</section>\n",
        ]
    )


def _tree(item: SessionReport) -> str:
    """The tree as nested lists, built without recursion (trees may be deep)."""
    tree = item.session.tree
    ends: dict[int, list[int]] = {}
    for path in item.session.paths:
        ends.setdefault(path.node_id, []).append(path.id)
    out = ['<ul class="tree">\n']
    stack: list[int | None] = [ROOT_ID]
    while stack:
        node_id = stack.pop()
        if node_id is None:
            out.append("</ul></li>\n")
            continue
        node = tree.nodes[node_id]
        text = display_text("".join(t.text for t in node.tokens)) if node_id else "(prompt)"
        first = f" p={node.tokens[0].prob:.3f}" if node.tokens else ""
        paths = ", ".join(f"#{p}" for p in ends.get(node_id, []))
        end = f' <span class="ends">paths {e(paths)}</span>' if paths else ""
        out.append(f'<li><span class="node">[{node.id}]{first}</span> {e(text)}{end}')
        if node.children:
            out.append("<ul>\n")
            stack.append(None)
            stack.extend(reversed(node.children))
        else:
            out.append("</li>\n")
    out.append("</ul>\n")
    return "".join(out)


def _path(item: SessionReport, path_id: int) -> str:
    session = item.session
    path, marker = item.path(path_id)
    unfinished = unfinished_reason(path)
    flag = f' <span class="unfinished">⚠ unfinished: {e(unfinished)}</span>' if unfinished else ""
    head = (
        f"<h4>Path {path.id}: {e(label_words(path.label))} <small>({e(path.origin)}, "
        f"{e(path.finish_reason or 'unfinished')}){e(marker)}</small>{flag}</h4>\n"
    )
    source = answer_source(path)
    where = answer_where(path)
    facts = (
        f"<p>answer <b>{e(answer_or_none(path.answer))}</b>"
        f"{f' <small>({e(source)})</small>' if source else ''} · "
        f"{f'at {e(where)} · ' if where else ''}"
        f'<span class="{e(verdict(path.correct))}">{e(verdict(path.correct))}</span> · '
        f"Δ {e(fmt(path.confidence))} · logprob {e(fmt(path.logprob, 2))} · "
        f"{e(token_counts(path))}</p>\n"
    )
    tokens = "".join(_token(view) for view in token_views(session, path))
    probe = ""
    if path.probe is not None:
        probe_tokens = "".join(_probe_token(view) for view in probe_views(path.probe))
        probe = (
            f'<div class="probe"><p>Answer probe (not part of the path\'s text): '
            f"{e(probe_summary(path.probe))}</p>\n"
            f'<div class="tokens">{probe_tokens}</div></div>\n'
        )
    answer_rows = answer_token_rows(session, path)
    answer_table = (
        f"<p class=note>The answer's tokens and their top-k alternatives (path {path.id}):</p>\n"
        + _table(("token #", "token", "p", "top-k alternatives (p)"), answer_rows)
        if answer_rows
        else ""
    )
    notes = _annotations(item.path_annotations(path.id), f"Annotations on path {path.id}")
    return (
        f'<div class="path">\n{head}{facts}<div class="tokens">{tokens}</div>\n{answer_table}'
        f"{probe}{notes}</div>\n"
    )


def _probe_token(view: ProbeTokenView) -> str:
    classes = "tok forced" if view.forced else "tok"
    span = (
        f'<span class="{classes}" style="background:{probability_background(view.token.prob)}" '
        f'title="{e(TokenView(view.index, view.token, view.in_answer, False).alternatives())}">'
        f"{e(view.token.text)}</span>"
    )
    return f'<mark class="answer">{span}</mark>' if view.in_answer else span


def _token(view: TokenView) -> str:
    classes = "tok after-stop" if view.after_stop else "tok"
    span = (
        f'<span class="{classes}" style="background:{probability_background(view.token.prob)}" '
        f'title="{e(view.alternatives())}">{e(view.token.text)}</span>'
    )
    return f'<mark class="answer">{span}</mark>' if view.in_answer else span


def _annotations(annotations: list[Annotation], title: str) -> str:
    if not annotations:
        return ""
    rows = [
        (annotation_target(a), a.label or "—", a.note, ", ".join(a.tags), a.created)
        for a in annotations
    ]
    return f"<h4>{e(title)}</h4>\n" + _table(("on", "label", "note", "tags", "created"), rows)


def _studies(item: SessionReport) -> str:
    if not item.studies:
        return ""
    parts = ["<h3>Studies</h3>\n"]
    for study in item.studies:
        gold = study.gold_line()
        parts += [
            f"<h4>{e(study.heading)}</h4>\n",
            f"<p><small>{e(study.details)}{e(' · ' + gold) if gold else ''}</small></p>\n",
            _image(study.png, study.alt),
            _table(study.header, study.rows()),
            f"<p><small>{e(study.note)}</small></p>\n",
        ]
    return "".join(parts)
