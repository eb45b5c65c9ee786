"""The application service: one question or a whole data set run on a backend, with every
session saved to the store as it happens. The CLI and the GUI both call it; it knows no Qt and
no argparse. See ``docs/architecture.md``."""

from inspector.service.experiments import SavedExperiment, run_saved_experiment
from inspector.service.runs import branch_and_save, retriever, run_and_save

__all__ = [
    "SavedExperiment",
    "branch_and_save",
    "retriever",
    "run_and_save",
    "run_saved_experiment",
]
