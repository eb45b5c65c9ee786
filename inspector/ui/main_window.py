"""The main window. For now it loads the model in the background and shows what it is."""

from __future__ import annotations

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from inspector import __version__
from inspector.engine import Engine, ModelInfo
from inspector.ui.workers import FunctionWorker


class MainWindow(QMainWindow):
    def __init__(self, model_path: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Reasoning Inspector")
        self.resize(1000, 640)
        self.engine: Engine | None = None
        self._model_path = model_path
        self._info_labels: dict[str, QLabel] = {}
        self.setCentralWidget(self._build_central())
        self.statusBar().showMessage("Loading model…")
        self._load_model()

    def _build_central(self) -> QWidget:
        central = QWidget()
        layout = QVBoxLayout(central)
        title = QLabel(
            f"<h2>Reasoning Inspector {__version__}</h2>"
            "<p>Explore the branching reasoning paths of a local language model.</p>"
        )
        title.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(title)
        box = QGroupBox("Model")
        form = QFormLayout(box)
        for key, label in [
            ("description", "Model"), ("architecture", "Architecture"), ("n_params", "Parameters"),
            ("n_vocab", "Vocabulary"), ("context_length", "Context length"),
            ("quantization", "Quantisation"), ("has_chat_template", "Chat template"),
            ("gpu_offload_supported", "GPU offload"), ("path", "File"),
        ]:  # fmt: skip
            value = QLabel("…")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._info_labels[key] = value
            form.addRow(label + ":", value)
        layout.addWidget(box)
        layout.addStretch(1)
        return central

    def _load_model(self) -> None:
        worker = FunctionWorker(lambda: Engine.load(self._model_path))
        worker.signals.finished.connect(self._on_model_loaded)
        worker.signals.failed.connect(self._on_model_failed)
        QThreadPool.globalInstance().start(worker)

    def _on_model_loaded(self, engine: Engine) -> None:
        self.engine = engine
        self.show_info(engine.info())

    def show_info(self, info: ModelInfo) -> None:
        values = {
            "description": info.description,
            "architecture": info.architecture,
            "n_params": f"{info.n_params:,}",
            "n_vocab": f"{info.n_vocab:,} tokens",
            "context_length": f"{info.context_length:,} tokens",
            "quantization": info.quantization,
            "has_chat_template": "yes" if info.has_chat_template else "no",
            "gpu_offload_supported": "available" if info.gpu_offload_supported else "CPU only",
            "path": info.path,
        }
        for key, text in values.items():
            self._info_labels[key].setText(text)
        self.statusBar().showMessage(f"Model loaded in {info.load_seconds:.2f} s")

    def _on_model_failed(self, message: str) -> None:
        for label in self._info_labels.values():
            label.setText("—")
        self.statusBar().showMessage(f"Could not load the model: {message}")

    def closeEvent(self, event) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        super().closeEvent(event)
