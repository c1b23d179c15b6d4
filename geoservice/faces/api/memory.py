"""Memory handed back to the system by the serving process, with one worker or many.

A big answer (service areas, coverage gaps) allocates and frees hundreds of megabytes of small
objects; glibc keeps what was freed in the process's heap, so a single-process ``serve`` stayed at
1.1-1.5 GB after a burst of heavy requests (from 425 MB after load). The forked workers of
``serve --workers N`` trim their heap every 2 s (``prefork.start_heap_trimmer``); the app starts
the same trimmer in the process that serves it, once per process (a forked worker already has
its own), so ``serve`` with one worker gives memory back too.
"""

from __future__ import annotations

import threading

__all__ = ["ensure_heap_trimmer", "TRIMMER_NAME"]

TRIMMER_NAME = "heap-trimmer"  # prefork.start_heap_trimmer's thread


def ensure_heap_trimmer() -> threading.Thread | None:
    """The heap trimmer of this process, started unless it runs already (None off glibc). Threads
    do not survive a fork: one found here belongs to this process."""
    for t in threading.enumerate():
        if t.name == TRIMMER_NAME and t.is_alive():
            return t
    from .prefork import start_heap_trimmer

    return start_heap_trimmer()
