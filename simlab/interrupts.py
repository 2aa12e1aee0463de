"""Ctrl-C and SIGTERM held off while a block that must not be cut in two runs.

Python raises :class:`KeyboardInterrupt` wherever the main thread happens to
be. Inside a ``queue.Queue`` operation it can leave the queue's lock taken,
and inside a pipe message it can leave half a message sent, so the other side
waits for ever. :func:`deferred` records a signal that arrives during its
block and handles it right after, as it would have been handled.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Defer SIGINT and SIGTERM until the block ends; the first one caught is then handled.

    Python runs signal handlers in the main thread whichever thread the
    signal reached, so swapping in a handler that only records the signal
    defers it reliably (masking it in one thread would not). Off the main
    thread no handler runs there anyway, and the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, object]] = []
    previous = {
        s: signal.signal(s, lambda number, frame: caught.append((number, frame))) for s in HELD
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number, frame in caught[:1]:
            handler = previous[number]
            if callable(handler):
                handler(number, frame)  # e.g. raises KeyboardInterrupt
            elif handler == signal.SIG_DFL:
                signal.raise_signal(number)
