"""The sessions dock: search, open, delete, rerun and compare saved sessions."""
