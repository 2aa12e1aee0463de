"""The embedded model: fingerprint, a real end-to-end decision, and `simlab llm serve`."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from simlab.llm.server import EmbeddedServer, free_port, gguf_path, model_fingerprint
from tests.conftest import REPO, run_simlab
from tests.llm_helpers import call_rows, insert_run, make_client, run_decisions


def test_gguf_is_found_and_fingerprinted_by_its_sha256():
    path = gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model_fingerprint(path) == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_fingerprint_follows_the_file_when_it_changes(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"one")
    first = model_fingerprint(model)
    model.write_bytes(b"other")
    assert model_fingerprint(model) != first
    assert model_fingerprint(model) == "sha256:" + hashlib.sha256(b"other").hexdigest()


def test_real_model_end_to_end_is_parsed_validated_and_recorded(engine):
    insert_run(engine)
    with EmbeddedServer(threads=1, n_ctx=2048) as server:
        client = make_client(
            engine,
            server.base_url,
            fingerprint=server.fingerprint,
            model="SmolLM2-135M-Instruct.Q4_1",
            sampling={"max_tokens": 128, "temperature": 0.2},
            concurrency=1,
        )
        results = run_decisions(client, [("ann", 0), ("bob", 0)], engine)
    rows = call_rows(engine)
    assert len(results) == 2
    for result in results:
        assert result.status in ("ok", "retried", "failed")
        assert result.prompt_tokens > 0  # the real server's usage
        if result.status == "failed":
            assert result.value is None and result.error
            assert [c.status for c in result.calls][-1] == "failed"
        else:
            assert result.value is not None and result.error is None
    recorded = sorted((r["agent_handle"], r["attempt"], r["status"]) for r in rows)
    assert recorded == sorted(
        (c.agent_handle, c.attempt, c.status) for x in results for c in x.calls
    )
    assert all(r["completion_tokens"] > 0 for r in rows)


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_answers_and_stops_on_a_signal(signum):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simlab", "llm", "serve", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        url = process.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}/v1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert response.status == 200
        process.send_signal(signum)
        assert process.wait(timeout=60) == 0
        assert "stopped" in process.stderr.read()
        assert not _port_open(port)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "80"], "--port must be between 1024 and 65535, got 80"),
        (["--port", "70000"], "--port must be between 1024 and 65535, got 70000"),
        (["--threads", "0"], "--threads must be between 1 and"),
        (["--ctx", "10"], "--ctx must be between 256 and 8192"),
    ],
)
def test_serve_rejects_bad_flags_in_one_line(args, message):
    result = run_simlab("llm", "serve", *args)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_serve_rejects_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_simlab("llm", "serve", "--port", str(port))
    assert result.returncode == 2 and f"--port {port} is already in use" in result.stderr
