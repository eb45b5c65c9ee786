"""The worker thread ends by itself when its job does: a GUI-thread slot of ``finished`` may
start the next run and wait for the previous thread without deadlocking the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Slot

from inspector.ui.shared.run_worker import RunWorker, start_worker


class Receiver(QObject):
    """Lives in the GUI thread, like the main window: its slots run there, queued."""

    def __init__(self) -> None:
        super().__init__()
        self.thread: QThread | None = None
        self.seen: list[tuple[object, bool]] = []

    @Slot(object)
    def done(self, result: object) -> None:
        # blocks the GUI thread: the quit must not need the GUI's event loop
        self.seen.append((result, self.thread.wait(3000)))


def run(qtbot, job, signal_name: str) -> list[tuple[object, bool]]:
    receiver = Receiver()
    worker = RunWorker(job)
    getattr(worker, signal_name).connect(receiver.done)
    receiver.thread = start_worker(worker, receiver)
    qtbot.waitUntil(lambda: bool(receiver.seen), timeout=10_000)
    return receiver.seen


def test_the_thread_has_quit_when_finished_reaches_the_gui(qtbot):
    assert run(qtbot, lambda hooks: "done", "finished") == [("done", True)]


def test_a_failed_job_also_ends_its_thread(qtbot):
    def job(hooks):
        raise ValueError("broken")

    assert run(qtbot, job, "failed") == [("broken", True)]
