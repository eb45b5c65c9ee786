"""Everything Qt. The only package allowed to import PySide6 or pyqtgraph."""
