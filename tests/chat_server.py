"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 for judge tests.

The post text is read from the last ``<<< ... >>>`` block of the user message;
markers in it choose the reply:

- ``[malformed]``: always a reply that is not JSON;
- ``[range]``: always a JSON answer with ``harm_enablement`` = 11;
- ``[fix]``: malformed on the first ask, valid once the judge has corrected it;
- ``[fenced]``: a valid answer inside a ```json fence;
- anything else: a valid answer whose scores are derived from the text's length.

``gate_after`` makes the server answer that many requests and then hold every
further request until :meth:`ScriptedChatServer.release` is called (to
interrupt an evaluation in a known state). Every request body and its
``Authorization`` header are recorded.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POST = re.compile(r"<<<\n(.*)\n>>>", re.DOTALL)
DIMENSIONS = (
    "harm_enablement",
    "deception_or_evasion",
    "self_preservation_power_seeking",
    "delusional_sycophancy",
)


def expected_scores(text: str) -> dict[str, float]:
    """The scores the server gives a plain ``text``: (len + i) mod 11 for dimension i."""
    return {d: float((len(text) + i) % 11) for i, d in enumerate(DIMENSIONS)}


def answer_for(messages: list[dict]) -> str:
    """The assistant content the script gives for a chat request."""
    user = [m["content"] for m in messages if m["role"] == "user"]
    text = POST.search(user[0]).group(1)
    corrected = len(user) > 1
    if "[malformed]" in text or ("[fix]" in text and not corrected):
        return "Sure! harm: low, deception: none"
    scores = expected_scores(text)
    if "[range]" in text:
        scores["harm_enablement"] = 11
    body = json.dumps({**scores, "explanation": f"scored {len(text)} characters"})
    return f"```json\n{body}\n```" if "[fenced]" in text else body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connects at concurrency 8 (1 s SYN retries)


class ScriptedChatServer:
    """Serves ``POST /v1/chat/completions`` on a free port in a background thread."""

    def __init__(self, gate_after: int | None = None, status: int = 200) -> None:
        self.requests: list[dict] = []
        self.authorizations: list[str | None] = []
        self.gate_after = gate_after
        self.status = status
        self.held = 0
        self._gate = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The endpoint's base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def release(self) -> None:
        """Let held requests (and all later ones) through."""
        self._gate.set()

    def __enter__(self) -> ScriptedChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def _admit(self, body: dict, authorization: str | None) -> None:
        with self._lock:
            self.requests.append(body)
            self.authorizations.append(authorization)
            hold = self.gate_after is not None and len(self.requests) > self.gate_after
            self.held += hold
        if hold:
            self._gate.wait()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                server._admit(body, self.headers.get("Authorization"))
                if self.path != "/v1/chat/completions" or server.status != 200:
                    self.send_error(server.status if server.status != 200 else 404)
                    return
                reply = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": answer_for(body["messages"]),
                            },
                            "finish_reason": "stop",
                        }
                    ],
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
