"""Choosing a model and its settings: file dialog, drag-and-drop, threads/context/GPU layers.

Choices persist between launches in QSettings; a model that fails to load leaves the previous
one in place and says why.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QWidget,
)

from inspector.engine import ModelInfo, ModelSettings
from inspector.engine.settings import CONTEXT, GPU_LAYERS, THREADS, default_thread_count
from inspector.ui.shared.widgets import ok_cancel, spin_box

MODEL_KEY = "model/path"


def saved_int(store: QSettings, key: str, default: int) -> int:
    """An integer preference (an INI file gives it back as text); TypeError or ValueError when
    what is saved is not one."""
    value = store.value(key, default)
    if isinstance(value, (int, str)):
        return int(value)
    raise TypeError(f"{key} is not a number")


def load_model_settings(store: QSettings) -> ModelSettings:
    """Saved settings, falling back to the defaults for anything missing or invalid."""
    defaults = ModelSettings()
    try:
        return ModelSettings(
            n_ctx=saved_int(store, "model/n_ctx", defaults.n_ctx),
            n_threads=saved_int(store, "model/n_threads", default_thread_count()),
            n_gpu_layers=saved_int(store, "model/n_gpu_layers", defaults.n_gpu_layers),
        )
    except (TypeError, ValueError):
        return defaults


def save_model_settings(store: QSettings, settings: ModelSettings) -> None:
    store.setValue("model/n_ctx", settings.n_ctx)
    store.setValue("model/n_threads", settings.n_threads)
    store.setValue("model/n_gpu_layers", settings.n_gpu_layers)
    store.sync()


class ModelSettingsDialog(QDialog):
    def __init__(self, settings: ModelSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model settings")
        # the engine's own ranges (docs/limits.md): more threads than CPUs only slow it down
        self.threads = spin_box(int(THREADS.low), int(THREADS.high), settings.n_threads)
        self.context = spin_box(256, int(CONTEXT.high), settings.n_ctx)
        self.context.setSingleStep(1024)
        self.gpu_layers = spin_box(int(GPU_LAYERS.low), int(GPU_LAYERS.high), settings.n_gpu_layers)
        self.gpu_layers.setSpecialValueText("all")
        form = QFormLayout(self)
        form.addRow("CPU threads:", self.threads)
        form.addRow("Context (tokens, shared by all branches):", self.context)
        form.addRow("GPU layers (-1 = all):", self.gpu_layers)
        form.addRow(ok_cancel(self))

    def values(self) -> ModelSettings:
        return ModelSettings(
            n_ctx=self.context.value(),
            n_threads=self.threads.value(),
            n_gpu_layers=self.gpu_layers.value(),
        )


def info_text(info: ModelInfo) -> str:
    rows = [
        ("Model", info.description), ("Architecture", info.architecture),
        ("Parameters", f"{info.n_params:,}"), ("Vocabulary", f"{info.n_vocab:,} tokens"),
        ("Trained context", f"{info.context_length:,} tokens"), ("Quantisation", info.quantization),
        ("Chat template", "yes" if info.has_chat_template else "no"),
        ("GPU offload", "available" if info.gpu_offload_supported else "not in this build"),
        ("GPU layers", str(info.n_gpu_layers)), ("File", info.path),
        ("Size", f"{info.file_size / 1e6:,.1f} MB"), ("Load time", f"{info.load_seconds:.2f} s"),
    ]  # fmt: skip
    return "\n".join(f"{name}: {value}" for name, value in rows)
