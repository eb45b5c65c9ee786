"""The Experiments tab against a server (the loopback server, no model behind it): "requests at
once" is offered only for a server, remembered, and bounds what the server sees; the CA bundle
typed in Connect to a server is the one the connection trusts."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from inspector.bench.loopback import Faults, loopback_server
from inspector.engine.remote import RemoteEngine
from inspector.store import Store
from inspector.ui.experiments.runner_box import CONCURRENCY_KEY
from inspector.ui.model.server_dialog import SERVER_CA_BUNDLE_KEY, ServerChoice, ServerDialog
from tests.engine.remote_servers import self_signed_certificate, serve_tls
from tests.ui.conftest import preferences
from tests.ui.experiments.test_experiments_page import show_page


def connect(qtbot, window, choice: ServerChoice) -> RemoteEngine:
    window.model_actions.connect_server(choice)
    qtbot.waitUntil(lambda: isinstance(window.models.engine, RemoteEngine), timeout=30_000)
    engine = window.models.engine
    assert isinstance(engine, RemoteEngine)
    return engine


def test_requests_at_once_bound_what_the_server_sees(qtbot, window, tmp_path):
    questions = tmp_path / "sums.jsonl"
    rows = [
        {"question": f"What is {i + 3} + {2 * i + 5}?", "answer": str(3 * i + 8)} for i in range(6)
    ]
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    runner = window.experiments.runner
    show_page(window, window.experiments)
    assert not runner.concurrency.isEnabled()  # the local engine runs one question at a time
    # a server that ignores n: a question is 3 one-sample requests and the greedy one, and the
    # server holds its answers until 3 requests are in flight together
    faults = Faults(ignore_n=True, gather=3)
    with loopback_server(latency=0.02, faults=faults) as (url, server):
        engine = connect(qtbot, window, ServerChoice(url, None, None, 10))
        assert runner.concurrency.isEnabled()
        runner.concurrency.setValue(3)
        assert int(window.preferences.value(CONCURRENCY_KEY)) == 3  # remembered at once
        runner.load_dataset(questions)
        qtbot.waitUntil(lambda: runner.dataset is not None, timeout=10_000)
        runner.settings.strategy.setCurrentText("self-consistency")
        runner.settings.samples.setValue(3)
        runner.settings.max_tokens.setValue(16)
        runner.run_button.click()
        assert runner.running and not runner.concurrency.isEnabled()  # fixed while it runs
        # three questions at once: the token bar counts the whole run, never reset between
        assert runner.question_progress.format().startswith("%v tokens so far")
        counted: list[int] = []
        qtbot.waitUntil(
            lambda: counted.append(runner.question_progress.value()) or not runner.running,
            timeout=60_000,
        )
        seen = server.traffic
    assert counted == sorted(counted) and counted[-1] > 0  # it only grows
    assert engine.concurrency == 3
    assert seen.open_peak == 3  # three at once (the server waited for them), never four
    assert seen.requests == 6 * 4  # per question: three seeded samples, the greedy reference
    with Store.open(window.db_path) as store:
        experiment = store.list_experiments()[0]
        assert len(store.finished_questions(experiment.id)) == 6


@pytest.fixture
def tls_files(tmp_path):
    made = self_signed_certificate(tmp_path)
    if made is None:
        pytest.skip("openssl cannot make a certificate here")
    return made


def test_the_ca_bundle_typed_in_connect_is_the_one_trusted(
    qtbot, window, tmp_path, monkeypatch, tls_files
):
    key, cert = tls_files
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    settings = preferences(tmp_path)
    dialog = ServerDialog(settings)
    qtbot.addWidget(dialog)
    with loopback_server(latency=0.0) as (url, server):
        secure = serve_tls(server, key, cert, url)
        dialog.url.setText(secure)
        dialog.timeout.setValue(10)
        untrusted = dialog.choice()
        assert untrusted.ca_bundle is None
        window.model_actions.connect_server(untrusted)
        qtbot.waitUntil(lambda: bool(warnings), timeout=30_000)
        assert "could not be verified" in warnings[0] and "CA bundle" in warnings[0]
        assert not isinstance(window.models.engine, RemoteEngine)  # the local model stays
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (cert, ""))
        dialog.browse.click()  # Choose…: the file picked goes into the field
        assert dialog.ca_bundle.text() == cert
        dialog.ca_bundle.setText(f"  {cert}  ")
        trusted = dialog.choice()
        assert trusted.ca_bundle == cert
        assert settings.value(SERVER_CA_BUNDLE_KEY) == cert  # remembered for next time
        assert ServerDialog(settings).ca_bundle.text() == cert
        connect(qtbot, window, trusted)
        assert "remote server" in window.model_label.text()
    assert len(warnings) == 1
