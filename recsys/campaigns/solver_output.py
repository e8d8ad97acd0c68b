"""Keep the HiGHS solver's own prints off the process's standard output.

scipy's :func:`~scipy.optimize.milp` passes ``disp=False`` to HiGHS (``output_flag`` off), and
HiGHS then logs nothing, except for a debugging ``printf`` left in its C++ code
(``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``, reported upstream
as ERGO-Code/HiGHS#2783) that no option switches off. It writes to file descriptor 1 from C, past
``sys.stdout``, so the only way to catch it is to point fd 1 somewhere else around the solve.

The redirect is process-wide (file descriptors are): while a solve runs, other threads' writes to
fd 1 go to the null device too. Project code logs to stderr and only the CLI prints, after the
solve, so nothing of ours is lost. Overlapping solves in threads (two dashboard sessions) share
one redirect: the first in opens it, the last out restores fd 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["quiet_stdout"]

_LOCK = threading.Lock()
_ACTIVE = 0
_SAVED: int | None = None


def _flush_c_stdio() -> None:
    """Flush C's stdout buffer, so buffered solver text goes where fd 1 points *now*."""
    # No C library handle (unusual platforms): nothing to flush.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def _flush_python() -> None:
    with contextlib.suppress(Exception):  # a closed or replaced sys.stdout: nothing to flush
        sys.stdout.flush()


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send everything written to file descriptor 1 to the null device inside the block.

    Examples
    --------
    >>> with quiet_stdout():
    ...     _ = os.write(1, b"not shown\\n")
    """
    global _ACTIVE, _SAVED
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, OSError, ValueError):  # no real stdout (embedded): fd 1 anyway
        fd = 1
    with _LOCK:
        if _ACTIVE == 0:
            _flush_python()
            _flush_c_stdio()
            try:
                _SAVED = os.dup(fd)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)
            except OSError:  # fd 1 closed: nothing can be printed anyway
                _SAVED = None
        _ACTIVE += 1
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE -= 1
            if _ACTIVE == 0 and _SAVED is not None:
                _flush_c_stdio()  # the solver's buffered text goes to the null device
                os.dup2(_SAVED, fd)
                os.close(_SAVED)
                _SAVED = None
