"""Model ▸ Connect to a server: an OpenAI-compatible completions server (llama-server, vLLM,
llama-cpp-python's server) instead of a local GGUF file.

The URL, model name, timeout and CA bundle (a file of trusted certificates, for a server whose
certificate a private authority signed) are remembered; the API key is kept only in memory for
the session (or read from $INSPECTOR_API_KEY) and never written anywhere. Proxies come from the
environment ($HTTPS_PROXY, $HTTP_PROXY, $NO_PROXY).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from inspector.engine.remote_http import strip_credentials
from inspector.ui.shared.widgets import ok_cancel

SERVER_URL_KEY = "server/base_url"
SERVER_MODEL_KEY = "server/model"
SERVER_TIMEOUT_KEY = "server/timeout"
SERVER_CA_BUNDLE_KEY = "server/ca_bundle"


@dataclass(frozen=True)
class ServerChoice:
    base_url: str
    model: str | None
    api_key: str | None
    timeout: float
    ca_bundle: str | None = None


def saved_timeout(preferences: QSettings, default: float = 120.0) -> float:
    """The remembered timeout in seconds; the default when what is saved is not a number."""
    value = preferences.value(SERVER_TIMEOUT_KEY, default)
    try:
        return float(value) if isinstance(value, (int, float, str)) else default
    except ValueError:
        return default


class ServerDialog(QDialog):
    def __init__(self, preferences: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to a server")
        self.preferences = preferences
        saved = str(preferences.value(SERVER_URL_KEY, "http://localhost:8080/v1"))
        self.url = QLineEdit(strip_credentials(saved))
        self.model = QLineEdit(str(preferences.value(SERVER_MODEL_KEY, "")))
        self.model.setPlaceholderText("the server's first model")
        self.api_key = QLineEdit(os.environ.get("INSPECTOR_API_KEY", ""))
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("none")
        self.timeout = QDoubleSpinBox(minimum=1, maximum=3600, decimals=0, suffix=" s")
        self.timeout.setValue(saved_timeout(preferences))
        self.ca_bundle = QLineEdit(str(preferences.value(SERVER_CA_BUNDLE_KEY, "") or ""))
        self.ca_bundle.setPlaceholderText("system default ($SSL_CERT_FILE, certifi)")
        self.ca_bundle.setToolTip(
            "a PEM file of trusted certificates, for an https server whose certificate your "
            "network's own authority signed; certificates are always verified"
        )
        note = QLabel(
            "Any server with an OpenAI-compatible /v1/completions API that returns logprobs:\n"
            "llama.cpp's llama-server, vLLM, or python -m llama_cpp.server.\n"
            "The API key is not saved. Experiments keep several requests in flight at once\n"
            "(Experiments tab: requests at once; match the server's parallel slots)."
        )
        form = QFormLayout(self)
        form.addRow(note)
        form.addRow("Base URL:", self.url)
        form.addRow("Model:", self.model)
        form.addRow("API key:", self.api_key)
        form.addRow("Timeout per request:", self.timeout)
        self.browse = QPushButton("Choose…")
        self.browse.setToolTip("pick the PEM file of your network's certificate authority")
        self.browse.clicked.connect(self._choose_ca_bundle)
        bundle = QHBoxLayout()
        bundle.addWidget(self.ca_bundle, 1)
        bundle.addWidget(self.browse)
        form.addRow("CA bundle:", bundle)
        form.addRow(ok_cancel(self))

    def _choose_ca_bundle(self) -> None:
        start = os.path.dirname(self.ca_bundle.text().strip()) or os.path.expanduser("~")
        path, _ = QFileDialog.getOpenFileName(
            self, "CA bundle", start, "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.ca_bundle.setText(path)

    def choice(self) -> ServerChoice:
        """What was entered; the URL, model and timeout are remembered (not the key)."""
        chosen = ServerChoice(
            base_url=self.url.text().strip(),
            model=self.model.text().strip() or None,
            api_key=self.api_key.text().strip() or None,
            timeout=self.timeout.value(),
            ca_bundle=self.ca_bundle.text().strip() or None,
        )
        # credentials typed into the URL (user:password@) are used, never saved
        self.preferences.setValue(SERVER_URL_KEY, strip_credentials(chosen.base_url))
        self.preferences.setValue(SERVER_MODEL_KEY, chosen.model or "")
        self.preferences.setValue(SERVER_TIMEOUT_KEY, chosen.timeout)
        self.preferences.setValue(SERVER_CA_BUNDLE_KEY, chosen.ca_bundle or "")
        self.preferences.sync()
        return chosen
