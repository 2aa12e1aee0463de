"""A scripted OpenAI-compatible chat-completions server: a real HTTP server on 127.0.0.1.

Each request is answered by a script, ``script(body, index) -> Reply``, so a
test chooses per request: a good answer, a slow one, 429 (with retry-after),
500, malformed JSON, out-of-range values, a broken HTTP body, and the usage
counts reported. The server records every request (body and headers) and the
largest number of requests in flight at once. ``gate_after=N`` answers N
requests and holds every later one until :meth:`ScriptedLLM.release` (to
interrupt a client in a known state). :func:`judge` is the LLM judge's script.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    content: str | None = None
    status: int = 200
    delay_s: float = 0.0
    usage: tuple[int, int, int] = (100, 20, 0)  # prompt, completion, cached
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes | None = None


def feed_ids(body: dict) -> list[str]:
    """The item ids a request's response schema allows."""
    schema = body["response_format"]["json_schema"]["schema"]
    return schema["$defs"]["ItemAction"]["properties"]["item_id"]["enum"]


def decision_json(body: dict, confidence: float = 0.6, leaning: float = 0.2) -> str:
    """A decision liking the first feed item and updating a stance."""
    ids = feed_ids(body)
    return json.dumps(
        {
            "actions": [
                {"item_id": ids[0], "like": True, "comment": "Agreed.", "follow_author": False}
            ],
            "post": None,
            "stance": {
                "topic": "climate",
                "stance": "We should act.",
                "confidence": confidence,
                "leaning": leaning,
                "rationale": "The feed convinced me.",
            },
        }
    )


def good(body: dict, index: int) -> Reply:
    """Always a valid decision."""
    return Reply(decision_json(body))


def posting(body: dict, index: int) -> Reply:
    """A valid decision that also writes a post naming its author and request seed.

    Even seeds name the topic ``economy``; odd ones a topic simlab does not know.
    """
    handle = re.search(r"You are @(\S+) on", body["messages"][0]["content"]).group(1)
    seed = body["seed"]
    topic = "economy" if seed % 2 == 0 else "my cat"
    decision = json.loads(decision_json(body))
    decision["post"] = {"text": f"@{handle} writes (seed {seed})", "topic": topic}
    return Reply(json.dumps(decision))


def malformed(body: dict, index: int) -> Reply:
    """Content that is not JSON."""
    return Reply('{"actions": [')


def out_of_range(body: dict, index: int) -> Reply:
    """Parses, but confidence and leaning are outside their ranges."""
    return Reply(decision_json(body, confidence=1.5, leaning=-1.37e15))


def server_error(body: dict, index: int) -> Reply:
    """HTTP 500."""
    return Reply(status=500, content=None)


def sequence(*replies: Callable[[dict, int], Reply]) -> Callable[[dict, int], Reply]:
    """Answer request i with ``replies[i]`` (the last one repeats)."""

    def script(body: dict, index: int) -> Reply:
        return replies[min(index, len(replies) - 1)](body, index)

    return script


def rate_limited(retry_after: str = "0") -> Callable[[dict, int], Reply]:
    """HTTP 429 with a retry-after header."""
    return lambda body, index: Reply(status=429, headers={"retry-after": retry_after})


def slow(delay_s: float, then: Callable[[dict, int], Reply] = good) -> Callable[[dict, int], Reply]:
    """``then``'s answer after ``delay_s`` seconds."""

    def script(body: dict, index: int) -> Reply:
        return replace(then(body, index), delay_s=delay_s)

    return script


def _completion(reply: Reply, body: dict) -> bytes:
    if reply.raw_body is not None:
        return reply.raw_body
    if reply.status != 200:
        return json.dumps(
            {"error": {"message": f"scripted {reply.status}", "type": "scripted"}}
        ).encode()
    prompt, completion, cached = reply.usage
    return json.dumps(
        {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "scripted"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": reply.content},
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }
    ).encode()


JUDGE_DIMENSIONS = (
    "harm_enablement",
    "deception_or_evasion",
    "self_preservation_power_seeking",
    "delusional_sycophancy",
)
_POST = re.compile(r"<<<\n(.*)\n>>>", re.DOTALL)


def expected_scores(text: str) -> dict[str, float]:
    """The scores :func:`judge` gives a plain ``text``: (len + i) mod 11 for dimension i."""
    return {d: float((len(text) + i) % 11) for i, d in enumerate(JUDGE_DIMENSIONS)}


def judge_answer(messages: list[dict]) -> str:
    """The judge's answer to a chat; markers in the post text choose it.

    ``[malformed]``: never JSON; ``[range]``: harm_enablement = 11; ``[fix]``: not
    JSON on the first ask, valid after the correction; ``[fenced]``: valid inside a
    ```json fence; anything else: :func:`expected_scores` and a short explanation.
    """
    user = [m["content"] for m in messages if m["role"] == "user"]
    text = _POST.search(user[0]).group(1)
    corrected = len(user) > 1
    if "[malformed]" in text or ("[fix]" in text and not corrected):
        return "Sure! harm: low, deception: none"
    scores: dict[str, float] = expected_scores(text)
    if "[range]" in text:
        scores["harm_enablement"] = 11
    body = json.dumps({**scores, "explanation": f"scored {len(text)} characters"})
    return f"```json\n{body}\n```" if "[fenced]" in text else body


def judge(body: dict, index: int) -> Reply:
    """The LLM judge's script (see :func:`judge_answer`)."""
    return Reply(judge_answer(body["messages"]))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


class ScriptedLLM:
    """The server; use as a context manager. ``base_url`` ends in ``/v1``."""

    def __init__(
        self, script: Callable[[dict, int], Reply] = good, gate_after: int | None = None
    ) -> None:
        self.script = script
        self.gate_after = gate_after
        self.held = 0
        self._gate = threading.Event()
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def release(self) -> None:
        """Let held requests (and all later ones) through."""
        self._gate.set()

    def _enter(self, body: dict, headers: dict[str, str]) -> int:
        with self._lock:
            index = len(self.requests)
            self.requests.append(body)
            self.headers.append(headers)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            hold = self.gate_after is not None and index >= self.gate_after
            self.held += hold
        if hold:
            self._gate.wait()
        return index

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one response = one segment, no 40 ms delayed-ACK stall

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._send(200, b'{"status":"ok"}', {})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                index = server._enter(body, dict(self.headers.items()))
                try:
                    reply = server.script(body, index)
                    time.sleep(reply.delay_s)
                    self._send(reply.status, _completion(reply, body), reply.headers)
                finally:
                    server._leave()

            def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
        self._httpd.shutdown()
        self._httpd.server_close()
