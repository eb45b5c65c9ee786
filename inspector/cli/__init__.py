"""The command line: a thin layer over the service, store and engine (one module per
subcommand group). ``inspector`` with no subcommand opens the desktop app."""

from inspector.cli.main import main

__all__ = ["main"]
