"""Qt-free core logic: answer extraction, metrics and data sets."""
