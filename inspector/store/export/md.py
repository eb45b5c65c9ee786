"""The Markdown report: the HTML report's content, plots as PNG files next to the ``.md``.

User and model text is escaped: inline text and table cells backslash-escape every ASCII
punctuation character Markdown could interpret (so ``|``, backticks, ``<`` and ``*`` stay
literal); multi-line text goes into fenced code blocks whose fence is longer than any backtick
run inside.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

from inspector.core.display import (
    TOKEN_RANGE_NOTE,
    answer_or_none,
    fmt,
    label_words,
    text_or_dash,
    verdict,
)
from inspector.core.run_stats import SELECTION_HELP
from inspector.store.export.report import (
    ExperimentReport,
    Report,
    SessionReport,
    annotation_target,
    answer_source,
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

#: (file name, PNG or None, alt text) -> the Markdown image link ("" without a PNG)
ImageLink = Callable[[str, bytes | None, str], str]

_SPECIAL = re.compile(r"([\\`*_\[\]|<>~&$])")
_SQUARES = ((0.25, "🟥"), (0.5, "🟧"), (0.75, "🟨"), (2.0, "🟩"))


def md(value: object) -> str:
    """Inline-safe Markdown text (never at a line start here): the characters that could start
    emphasis, code, links, HTML, entities, math or a table cell are escaped; line breaks are
    shown as ⏎."""
    text = _SPECIAL.sub(r"\\\1", str(value))
    return text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ⏎ ")


def fenced(text: str, info: str = "text") -> str:
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{info}\n{text}\n{fence}\n"


def probability_square(prob: float) -> str:
    return next(square for limit, square in _SQUARES if prob < limit)


def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(md(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_markdown(report: Report, assets: str) -> tuple[str, dict[str, bytes]]:
    """The Markdown text and the image files (name -> PNG) it links under ``assets/``."""
    files: dict[str, bytes] = {}

    def image(name: str, png: bytes | None, alt: str) -> str:
        if not png:
            return ""
        files[name] = png
        return f"![{md(alt)}]({quote(assets)}/{quote(name)})\n\n"

    parts = [f"# {md(report.title)}\n\n{md(TOKEN_RANGE_NOTE)}\n\n"]
    if report.experiment is not None:
        parts.append(_experiment(report.experiment, image))
    for number, item in enumerate(report.sessions):
        parts.append(_session(item, number, image))
    return "".join(parts), files


def _experiment(experiment: ExperimentReport, image: ImageLink) -> str:
    calibration = experiment.calibration
    summary = [
        ("name", experiment.name),
        ("data set", experiment.dataset),
        ("strategy", experiment.strategy),
        ("status", experiment.status),
        ("created", experiment.created),
        ("accuracy", fmt(experiment.accuracy)),
        ("questions", experiment.questions_line),
    ]
    results = [
        (
            r.question_index + 1,
            r.question,
            text_or_dash(r.gold),
            answer_or_none(r.chosen_answer),
            verdict(r.correct),
        )
        for r in experiment.results
    ]
    bins = [
        (f"{b.lower:.1f}–{b.upper:.1f}", b.count, fmt(b.mean_confidence), fmt(b.accuracy))
        for b in calibration.bins
    ]
    return "".join(
        [
            "## Experiment\n\n",
            table(("field", "value"), summary),
            "\n### Settings\n\n",
            table(("setting", "value"), applicable_settings(experiment.settings)),
            "\n### Model\n\n",
            table(("field", "value"), settings_rows(experiment.model)),
            "\n### Results\n\n",
            table(("#", "question", "gold", "chosen", "verdict"), results),
            "\n### Calibration (consistency vs accuracy)\n\n",
            image("calibration.png", experiment.calibration_png, "reliability diagram"),
            f"ECE {fmt(calibration.ece)} · Brier {fmt(calibration.brier)} · "
            f"{calibration.n} runs\n\n",
            table(("bin", "count", "mean confidence", "accuracy"), bins),
            "\n### Accuracy vs number of samples\n\n",
            image("accuracy.png", experiment.curve_png, "accuracy vs samples"),
            table(
                ("samples", "accuracy", "questions"),
                [(p.n, fmt(p.accuracy), p.questions) for p in experiment.curve],
            ),
            "\n### Selection rules: accuracy of each, and pass@k\n\n",
            table(selection_header(experiment.selection), selection_gap_rows(experiment.selection)),
            f"\n{md(SELECTION_HELP)}; gap: pass@k − the strategy's own accuracy.\n\n",
        ]
    )


def _session(item: SessionReport, number: int, image: ImageLink) -> str:
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
    return "".join(
        [
            f"## Session {number + 1}: {md(session.title or session.question)}\n\n",
            "### Question\n\n",
            fenced(session.question),
            "\n",
            table(("field", "value"), info),
            "\n### Prompt\n\n",
            fenced(session.prompt),
            "\n### Settings\n\n",
            table(("setting", "value"), applicable_settings(session.settings.to_dict())),
            "\n### Model\n\n",
            table(("field", "value"), settings_rows(session.model)),
            "\n### Votes\n\n",
            image(f"votes-{number + 1}.png", item.votes_png, "vote distribution"),
            table(("answer", "votes", "verdict"), votes) if votes else "No answers.\n",
            "\nOnly answered paths vote; consistency is the share of the answered voting paths "
            "that agree with the majority.\n",
            "\n### Selection rules\n\n",
            table(("rule", "answer", "verdict"), selection_rows(session, summary)),
            "\n### Tree\n\n",
            _tree(item),
            "\n### Paths\n\n",
            "".join(_path(item, path.id) for path in session.paths),
            _annotations(item.path_annotations(None), "Session annotations"),
            _studies(item, number, image),
        ]
    )


def _tree(item: SessionReport) -> str:
    """A nested bullet list, one line per node (iterative: trees may be deep)."""
    ends: dict[int, list[int]] = {}
    for path in item.session.paths:
        ends.setdefault(path.node_id, []).append(path.id)
    nodes = item.session.tree.nodes
    lines, stack = [], [(child, 0) for child in reversed(nodes[0].children)]
    while stack:
        node_id, level = stack.pop()
        node = nodes[node_id]
        text = display_text("".join(t.text for t in node.tokens))
        first = f" p={node.tokens[0].prob:.3f}" if node.tokens else ""
        paths = ", ".join(f"#{p}" for p in ends.get(node_id, []))
        tail = f" → paths {paths}" if paths else ""
        lines.append(f"{'  ' * level}- \\[{node_id}\\]{md(first)} {md(text)}{md(tail)}")
        stack.extend((child, level + 1) for child in reversed(node.children))
    return "\n".join(lines) + "\n" if lines else "(no generated tokens)\n"


def _path(item: SessionReport, path_id: int) -> str:
    session = item.session
    path, pick = item.path(path_id)
    unfinished = unfinished_reason(path)
    flag = f" ⚠ **unfinished: {md(unfinished)}**" if unfinished else ""
    head = (
        f"#### Path {path.id}: {md(label_words(path.label))} ({md(path.origin)}, "
        f"{md(path.finish_reason or 'unfinished')}){md(pick)}{flag}\n\n"
    )
    answer = answer_or_none(path.answer)
    where = f" ({answer_where(path)})" if path.answer_tokens else ""
    source = answer_source(path)
    found = f", {md(source)}" if source else ""
    facts = (
        f"answer **{md(answer)}**{where}{found} · {verdict(path.correct)} · "
        f"Δ {fmt(path.confidence)} · logprob {fmt(path.logprob, 2)} · "
        f"{md(token_counts(path))}\n\n"
    )
    thinking = path.thinking_tokens or (0, 0)
    rows = [
        (
            view.index,
            display_text(view.token.text),
            f"{probability_square(view.token.prob)} {view.token.prob:.3f}",
            _token_note(view.in_answer, view.after_stop, thinking[0] <= view.index < thinking[1]),
            "; ".join(f"{display_text(a.text)} {a.prob:.3f}" for a in view.token.top),
        )
        for view in token_views(session, path)
    ]
    tokens = table(("#", "token", "p", "", "top-k alternatives"), rows)
    probe = ""
    if path.probe is not None:
        probe_rows = [
            (
                view.index,
                display_text(view.token.text),
                f"{probability_square(view.token.prob)} {view.token.prob:.3f}",
                "probe text" if view.forced else ("answer" if view.in_answer else ""),
                "; ".join(f"{display_text(a.text)} {a.prob:.3f}" for a in view.token.top),
            )
            for view in probe_views(path.probe)
        ]
        probe = (
            f"\nAnswer probe (not part of the path's text): {md(probe_summary(path.probe))}\n\n"
            + table(("#", "token", "p", "", "top-k alternatives"), probe_rows)
        )
    notes = _annotations(item.path_annotations(path.id), f"Annotations on path {path.id}")
    return f"{head}{fenced(path.text)}\n{facts}{tokens}{probe}\n{notes}"


def _token_note(in_answer: bool, after_stop: bool, thinking: bool) -> str:
    if in_answer:
        return "answer"
    if after_stop:
        return "after stop"
    return "thinking" if thinking else ""


def _annotations(annotations: list[Annotation], title: str) -> str:
    if not annotations:
        return ""
    rows = [
        (annotation_target(a), a.label or "—", a.note, ", ".join(a.tags), a.created)
        for a in annotations
    ]
    return f"#### {md(title)}\n\n" + table(("on", "label", "note", "tags", "created"), rows) + "\n"


def _studies(item: SessionReport, number: int, image: ImageLink) -> str:
    if not item.studies:
        return ""
    parts = ["\n### Studies\n\n"]
    for i, study in enumerate(item.studies):
        gold = study.gold_line()
        name = f"study-{number + 1}-{i + 1}-{'forks' if study.forks else 'steps'}.png"
        parts += [
            f"#### {md(study.heading)}\n\n",
            f"{md(study.details)}{md(' · ' + gold) if gold else ''}\n\n",
            image(name, study.png, study.alt),
            table(study.header, study.rows()),
            f"\n{md(study.note)}\n\n",
        ]
    return "".join(parts)
