"""Children that do not outlive their parent: Linux's ``PR_SET_PDEATHSIG``.

A compare worker, a private PostgreSQL server and a run's writer process each
ask the kernel to signal them when the process that started them dies, so a
``kill -9`` of the parent leaves no orphan behind (prctl(2)).
"""

from __future__ import annotations

import contextlib
import ctypes
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def signal_at_parent_death(signum: int) -> None:
    """Ask Linux to send ``signum`` to this process when its parent dies (elsewhere: nothing).

    The request holds from now on: a caller checks ``os.getppid()`` afterwards
    in case the parent died before it was made.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum))
