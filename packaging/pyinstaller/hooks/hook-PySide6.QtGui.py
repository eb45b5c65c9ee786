"""Replaces PyInstaller's hook for PySide6.QtGui: the same, minus Qt plugins the app never uses.

Dropping a plugin here (not after the analysis) also keeps out the libraries it alone needs:
the GTK 3 theme would bring GTK's whole stack (cairo, pango, ...), VNC brings QtNetwork and
OpenSSL. Kept: the xcb, Wayland, offscreen and minimal platforms, the XDG portal theme (it
reports the desktop's dark/light scheme), input methods, image formats and the SVG icon engine.
"""

from pathlib import Path

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

UNUSED_PLUGINS = {
    "egldeviceintegrations": None,  # None: the whole plugin folder
    "generic": None,  # evdev / TUIO input for devices without a window system
    "platforms": {
        "libqeglfs.so", "libqlinuxfb.so", "libqminimalegl.so", "libqvkkhrdisplay.so",
        "libqvnc.so",
    },
    "platformthemes": {"libqgtk3.so"},
}  # fmt: skip


def _used(source: str) -> bool:
    path = Path(source)
    unused = UNUSED_PLUGINS.get(path.parent.name, set())
    return unused is not None and path.name not in unused


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, dest) for source, dest in binaries if _used(source)]
