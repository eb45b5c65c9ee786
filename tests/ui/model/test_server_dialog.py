"""Model ▸ Connect to a server: credentials typed into the URL are used, never saved."""

from __future__ import annotations

from inspector.ui.model.server_dialog import SERVER_URL_KEY, ServerDialog
from tests.ui.conftest import preferences


def test_url_credentials_are_kept_out_of_the_preferences(qtbot, tmp_path):
    settings = preferences(tmp_path)
    settings.setValue(SERVER_URL_KEY, "http://old:OLD-SECRET@gpu-box:8080/v1")  # an older app
    dialog = ServerDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.url.text() == "http://gpu-box:8080/v1"
    dialog.url.setText("http://alice:S3cr3t@gpu-box:8080/v1")
    chosen = dialog.choice()
    assert chosen.base_url == "http://alice:S3cr3t@gpu-box:8080/v1"  # used to connect
    assert settings.value(SERVER_URL_KEY) == "http://gpu-box:8080/v1"
    stored = (tmp_path / "preferences.ini").read_text()
    assert "S3cr3t" not in stored and "OLD-SECRET" not in stored and "alice" not in stored
