"""The Model menu's dialogs: open a GGUF file, connect to a server, settings, information.

Each asks the user, then hands the choice to the :class:`ModelController`; none of them runs
while ``busy_reason`` gives a reason (a run or an experiment is using the model).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from inspector.engine.remote_http import strip_credentials
from inspector.ui.model.controller import ModelController
from inspector.ui.model.dialogs import ModelSettingsDialog, info_text
from inspector.ui.model.server_dialog import ServerChoice, ServerDialog


class ModelActions(QObject):
    """The user's ways of changing the model, with their dialogs parented to ``dialog_parent``."""

    message = Signal(str, int)  # status text, milliseconds shown (0: until the next one)

    def __init__(
        self, models: ModelController, busy_reason: Callable[[], str | None], dialog_parent: QWidget
    ) -> None:
        super().__init__(dialog_parent)
        self.models = models
        self.busy_reason = busy_reason
        self.dialog_parent = dialog_parent

    def _refuse_when_busy(self) -> bool:
        """Say why the model cannot change now, if it cannot (a run or an experiment)."""
        busy = self.busy_reason()
        if busy:
            self.message.emit(busy, 5000)
        return busy is not None

    def choose_model(self, path: str | None = None) -> None:
        """Load another GGUF file (from the file dialog or a drop); the current one stays
        until the new one has loaded."""
        if self._refuse_when_busy():
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.dialog_parent, "Open a GGUF model", "", "GGUF models (*.gguf);;All files (*)"
            )
        if path:
            self.message.emit(f"Loading {Path(path).name}…", 0)
            self.models.load(path)

    def connect_server(self, choice: ServerChoice | None = None) -> None:
        """Use a model on an OpenAI-compatible server; the current model stays until the
        connection works."""
        if self._refuse_when_busy():
            return
        if choice is None:
            dialog = ServerDialog(self.models.preferences, self.dialog_parent)
            if not dialog.exec():
                return
            choice = dialog.choice()
        self.message.emit(f"Connecting to {strip_credentials(choice.base_url)}…", 0)
        self.models.connect_server(choice)

    def edit_settings(self) -> None:
        if self._refuse_when_busy():
            return
        dialog = ModelSettingsDialog(self.models.settings, self.dialog_parent)
        if dialog.exec():
            self.message.emit("Reloading the model with the new settings…", 0)
            self.models.change_settings(dialog.values())

    def show_info(self) -> None:
        if self.models.info is not None:
            QMessageBox.information(self.dialog_parent, "Model", info_text(self.models.info))
