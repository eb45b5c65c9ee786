"""Widgets, colours, theme, workers, plots and dialogs used by more than one feature."""
