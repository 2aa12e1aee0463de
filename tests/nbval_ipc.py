"""pytest plugin for the nbval runs: Jupyter kernels talk over Unix sockets, not TCP.

jupyter_client finds five free TCP ports by binding and closing them, then hands the
numbers to the kernel it starts. Anything that opens a socket in between (another
kernel, a marimo server, a client's ephemeral port) can take one, and the kernel dies
before replying to ``kernel_info``. The IPC transport names files instead of ports, so
there is no window to lose. Each kernel's socket files get their own prefix, since
jupyter_client's default (``kernel-ipc-N`` in the working directory) is shared by
kernels started together from one folder. Loaded with ``-p nbval_ipc`` from ``tests/``.
"""

import uuid

import nbval.kernel
from jupyter_client.manager import KernelManager


class IpcKernelManager(KernelManager):
    """A kernel manager whose kernels listen on Unix sockets with a prefix of their own."""

    def __init__(self, **kwargs):
        super().__init__(transport="ipc", ip=f"kernel-{uuid.uuid4().hex[:12]}", **kwargs)


nbval.kernel.KernelManager = IpcKernelManager
