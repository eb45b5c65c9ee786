"""The main window's model handling: load in the background, switch, settings, info.

A mixin of :class:`~inspector.ui.main_window.MainWindow`, kept apart to keep that file small.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from inspector.engine import Engine, ModelSettings
from inspector.engine.remote import RemoteEngine
from inspector.engine.remote_http import HttpSettings
from inspector.ui.model.dialogs import (
    MODEL_KEY,
    ModelSettingsDialog,
    info_text,
    save_model_settings,
)
from inspector.ui.model.server_dialog import ServerChoice, ServerDialog
from inspector.ui.shared.workers import run_in_pool


class ModelControls:
    """Expects the window's ``engine``, ``model_info``, ``worker``, ``preferences``,
    ``model_settings``, ``model_label`` and ``_model_path`` attributes and its
    ``busy_reason()`` and ``_set_ready()`` methods."""

    def _refuse_when_busy(self) -> bool:
        """Say why the model cannot change now, if it cannot (a run or an experiment)."""
        busy = self.busy_reason()
        if busy:
            self.statusBar().showMessage(busy, 5000)
        return busy is not None

    def _load_model(self, path: str | None = None, settings: ModelSettings | None = None) -> None:
        path = path or self._model_path
        settings = settings or self.model_settings
        self._set_ready(False)
        self._loading_path = path
        run_in_pool(
            lambda: Engine.load(path, settings), self._on_model_loaded, self._on_model_failed
        )

    def choose_model(self, path: str | None = None) -> None:
        """Load another GGUF file (from the file dialog or a drop); the current one stays
        until the new one has loaded."""
        if self._refuse_when_busy():
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open a GGUF model", "", "GGUF models (*.gguf);;All files (*)"
            )
        if path:
            self.statusBar().showMessage(f"Loading {Path(path).name}…")
            self._load_model(path, self.model_settings)

    def connect_server(self, choice: ServerChoice | None = None) -> None:
        """Use a model on an OpenAI-compatible server; the current model stays until the
        connection works."""
        if self._refuse_when_busy():
            return
        if choice is None:
            dialog = ServerDialog(self.preferences, self)
            if not dialog.exec():
                return
            choice = dialog.choice()
        self.statusBar().showMessage(f"Connecting to {choice.base_url}…")
        self._set_ready(False)
        self._loading_path = None
        http = HttpSettings(timeout=choice.timeout)
        run_in_pool(
            lambda: RemoteEngine.connect(choice.base_url, choice.api_key, choice.model, http),
            self._on_model_loaded,
            self._on_model_failed,
        )

    def edit_model_settings(self) -> None:
        if self._refuse_when_busy():
            return
        dialog = ModelSettingsDialog(self.model_settings, self)
        if dialog.exec():
            self.model_settings = dialog.values()
            save_model_settings(self.preferences, self.model_settings)
            self.statusBar().showMessage("Reloading the model with the new settings…")
            self._load_model(self._model_path, self.model_settings)

    def show_model_info(self) -> None:
        if self.model_info is not None:
            QMessageBox.information(self, "Model", info_text(self.model_info))

    def dragEnterEvent(self, event) -> None:
        if any(url.toLocalFile().endswith(".gguf") for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [
            u.toLocalFile() for u in event.mimeData().urls() if u.toLocalFile().endswith(".gguf")
        ]
        if paths:
            self.choose_model(paths[0])

    def _on_model_loaded(self, engine: Engine) -> None:
        path = self._loading_path
        if self.engine is not None:
            self.engine.close()
        self.engine = engine
        self._model_path = path
        if path:
            self.preferences.setValue(MODEL_KEY, path)
            self.preferences.sync()
        self.model_info = engine.info()
        self._update_title()
        offloaded = self.model_info.gpu_offload_supported and self.model_info.n_gpu_layers != 0
        where = "GPU" if offloaded else "CPU"
        if self.model_info.architecture == "remote":
            where = "remote server"
        self.model_label.setText(f"{self.model_info.description} · {where}")
        self.statusBar().showMessage(f"Model loaded in {self.model_info.load_seconds:.2f} s", 5000)
        self._set_ready(True)

    def _show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def _on_model_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Could not load the model: {message}")
        if self.engine is None:
            self.model_label.setText("no model")
            return
        self._set_ready(True)  # the previous model stays in use
        QMessageBox.warning(
            self, "Could not load the model", f"{message}\n\nThe previous model stays loaded."
        )
