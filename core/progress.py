"""Progress reporting and cancellation for long work (imports, solves, exports).

Long work is a plain function taking ``on_progress`` and a ``CancelToken``;
the GUI wraps it in one generic worker, the CLI prints to stderr.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

ProgressCallback = Callable[[float, str], None]
"""Called with a fraction done (0..1) and a short message."""


class Cancelled(Exception):
    """Raised inside long work when its token was cancelled; ``partial`` carries the best
    result found so far, if any."""

    def __init__(self, partial: object = None) -> None:
        super().__init__("cancelled")
        self.partial = partial


class CancelToken:
    """A thread-safe flag another thread sets to stop long work early."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the work should stop."""
        if self._event.is_set():
            raise Cancelled()


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores what it is told."""
