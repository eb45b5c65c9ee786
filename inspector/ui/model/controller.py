"""The model in use: loaded, switched or connected on a pool thread, announced by signals.

:class:`ModelController` owns the backend. The window, the Explore page and the Experiments
page never load or close it themselves: they read :attr:`ModelController.engine` when they
start work and listen to :attr:`~ModelController.loading`, :attr:`~ModelController.changed`
and :attr:`~ModelController.failed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Signal

from inspector.engine import Engine, ModelInfo, ModelSettings
from inspector.engine.remote import RemoteEngine
from inspector.engine.remote_http import HttpSettings
from inspector.ui.model.dialogs import MODEL_KEY, load_model_settings, save_model_settings
from inspector.ui.model.server_dialog import ServerChoice
from inspector.ui.shared.workers import run_in_pool

if TYPE_CHECKING:
    from inspector.engine.backend import Backend


class ModelController(QObject):
    """Owns the backend (a llama.cpp :class:`Engine` or a :class:`RemoteEngine`).

    A load or a connection runs on a pool thread; the current backend stays in use until
    the new one is ready (:attr:`changed`) and stays after a failure (:attr:`failed`). The
    chosen GGUF file and the model settings are kept in ``preferences`` for the next launch.
    """

    loading = Signal()  # a load or connection began: wait for changed or failed
    changed = Signal(object)  # the Backend now in use (the previous one is closed)
    failed = Signal(str)  # why it could not load; ``engine`` is still the previous one

    def __init__(
        self, preferences: QSettings, model_path: str | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.preferences = preferences
        self.engine: Backend | None = None
        self.info: ModelInfo | None = None
        saved = preferences.value(MODEL_KEY)
        self.path: str | None = model_path or (str(saved) if saved else None)
        self.settings: ModelSettings = load_model_settings(preferences)
        self._request = 0  # the latest load or connect: an earlier one that ends later is dropped

    def load(self, path: str | None = None) -> None:
        """Load a GGUF file (the current one, or the default model, when ``path`` is None)."""
        path = path or self.path
        settings = self.settings
        self._start(lambda: Engine.load(path, settings), path)

    def connect_server(self, choice: ServerChoice) -> None:
        """Use the model of an OpenAI-compatible server."""
        http = HttpSettings(timeout=choice.timeout, ca_bundle=choice.ca_bundle)
        self._start(
            lambda: RemoteEngine.connect(choice.base_url, choice.api_key, choice.model, http), None
        )

    def change_settings(self, settings: ModelSettings) -> None:
        """Keep ``settings`` for the next launch and reload the model with them."""
        self.settings = settings
        save_model_settings(self.preferences, settings)
        self.load(self.path)

    def close(self) -> None:
        """Free the model (the application is quitting)."""
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def _start(self, make: Callable[[], Backend], path: str | None) -> None:
        """Make an engine on the pool; only the latest request's engine is used (the slots are
        this object's methods, so Qt drops them with it)."""
        self._request += 1
        request = self._request
        self.loading.emit()
        run_in_pool(lambda: (request, path, make()), self._loaded, self._failed)

    def _loaded(self, made: tuple[int, str | None, Backend]) -> None:
        request, path, engine = made
        if request != self._request:  # a later load or connect replaced this one
            engine.close()
            return
        if self.engine is not None:
            self.engine.close()
        self.engine = engine
        self.path = path
        if path:
            self.preferences.setValue(MODEL_KEY, path)
            self.preferences.sync()
        self.info = engine.info()
        self.changed.emit(engine)

    def _failed(self, message: str) -> None:
        self.failed.emit(message)
