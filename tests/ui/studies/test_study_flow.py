"""The studies from the main window on the real default model: the Study menu's "Find forking
tokens…" opens the dialog on the shown path, Start runs a small study to "complete" and saves
it; the study window opens chosen continuations in the tree as branch paths of the path."""

from __future__ import annotations

import math

from PySide6.QtGui import QAction

from inspector.core.studies import StudySettings, plan_study
from inspector.store import Store
from tests.ui.conftest import run_and_wait


def study_action(window) -> QAction:
    return next(a for a in window.findChildren(QAction) if a.text() == "Find &forking tokens…")


def test_menu_dialog_and_a_small_study_that_is_saved(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy", max_tokens=12)
    session = window.explore.session
    assert session is not None and window.explore.path_view.path.id == 0
    study_action(window).trigger()
    dialog = window.studies.dialog
    assert dialog is not None and dialog.isVisible() and dialog.path_id == 0
    assert dialog.session.id == session.id and dialog.kind == "forks"
    dialog.in_range.setChecked(True)
    dialog.first.setValue(0)
    dialog.last.setValue(1)
    dialog.alternatives.setValue(1)
    dialog.samples.setValue(2)
    dialog.max_tokens.setValue(4)
    plan = plan_study(session, dialog.settings())
    assert f"at most <b>{plan.tokens:,} tokens</b>" in dialog.cost.text()
    with qtbot.waitSignal(window.studies.runner.finished, timeout=120_000) as done:
        dialog.start_button.click()
        assert window.studies.running and not window.explore.run_panel.run_button.isEnabled()
    study = done.args[0]
    assert study.status == "complete" and len(study.samples) == len(plan.points)
    shown = window.studies.window
    # the window shows the final results, read back from the database
    qtbot.waitUntil(lambda: shown.study is not None and shown.study.status == "complete")
    assert shown.study.id == study.id and len(shown.study.samples) == len(plan.points)
    assert shown.isVisible() and "complete" in shown.status.text()
    with Store.open(window.db_path) as store:
        rows = store.list_studies(session.id)
    assert [(r.id, r.kind, r.status, r.n_samples) for r in rows] == [
        (study.id, "forks", "complete", len(plan.points))
    ]
    assert window.explore.run_panel.run_button.isEnabled()  # the model is free again


def test_open_continuations_in_the_tree(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy", max_tokens=12)
    session = window.explore.session
    settings = StudySettings("forks", 0, samples=2, max_tokens=4, first=1, last=2, alternatives=1)
    with qtbot.waitSignal(window.studies.runner.finished, timeout=120_000):
        assert window.studies.start(session.id, settings)
    shown = window.studies.window
    qtbot.waitUntil(lambda: shown.study is not None and shown.study.status == "complete")
    assert "not added to the tree" not in " ".join(
        label.text() for label in shown.findChildren(type(shown.status))
    )
    assert not shown.open_button.isEnabled()  # nothing selected yet
    shown.fork_plot.positionClicked.emit(2)
    tokens = shown.tokens_model.rows
    alternative = next(row for row, t in enumerate(tokens) if not t.taken)
    shown.tokens_table.selectRow(alternative)  # a token: all of its continuations
    chosen = shown.selected_samples()
    token_id = tokens[alternative].token_id
    assert len(chosen) == 2 and {s.point.token_id for s in chosen} == {token_id}
    assert shown.open_button.isEnabled() and shown.open_button.text() == "Open 2 in the tree"
    before = len(session.paths)
    window.pages.setCurrentIndex(1)
    with qtbot.waitSignal(window.studies.treeOpened, timeout=120_000):
        shown.open_button.click()
        assert window.studies.running and not shown.open_button.isEnabled()
    qtbot.waitUntil(
        lambda: (
            window.explore.session is not None and len(window.explore.session.paths) == before + 2
        )
    )
    opened = window.explore.session
    new = opened.paths[before:]
    assert window.pages.currentIndex() == 0 and window.explore.path_view.path.id == before
    prefix = [t.token_id for t in opened.path_tokens(opened.paths[0])][:2]
    for path, sample in zip(new, chosen, strict=True):
        assert (path.origin, path.parent_path, path.branch_depth) == ("branch", 0, 2)
        records = opened.path_tokens(path)
        assert [t.token_id for t in records] == prefix + sample.token_ids
        assert records[2].token_id == token_id  # the studied alternative comes first
        assert all(t.top and math.isfinite(t.logprob) for t in records[2:])  # full records
    with Store.open(window.db_path) as store:  # saved
        saved = store.load_session(session.id)
    assert [(p.parent_path, p.branch_depth, p.n_tokens) for p in saved.paths[before:]] == [
        (p.parent_path, p.branch_depth, p.n_tokens) for p in new
    ]
    assert window.explore.run_panel.run_button.isEnabled() and not window.studies.running
