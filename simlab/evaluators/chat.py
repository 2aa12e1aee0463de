"""A minimal OpenAI-compatible chat-completions client over ``urllib`` (the judge's first client).

``POST {base_url}/chat/completions`` with ``{"model", "messages", "temperature": 0,
"max_tokens"}``; the reply's ``choices[0].message.content`` is returned with the
model name the server reports. The API key, if any, comes from
``SIMLAB_LLM_API_KEY`` (else ``OPENAI_API_KEY``) and is only ever sent in the
``Authorization`` header, never logged or stored.

Connection errors, HTTP 429 and 5xx are retried (three attempts, 0.5 s then
1 s apart); after that, or on any other HTTP error or a reply that is not a
chat completion, :class:`EndpointError` is raised: the evaluation stops, and
re-running it resumes.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

RETRY_DELAYS_S = (0.5, 1.0)
MAX_TOKENS = 300


class EndpointError(RuntimeError):
    """The chat endpoint could not give a chat completion (not the text's fault)."""


@dataclass(frozen=True)
class ChatReply:
    """The assistant's message text and the model that wrote it."""

    content: str
    model: str | None


def _api_key() -> str | None:
    return os.environ.get("SIMLAB_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")


class OpenAICompatibleChat:
    """Sends chat requests to one endpoint and model; safe to call from many threads."""

    def __init__(self, base_url: str, model: str, timeout_s: float) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout_s = timeout_s

    def send(self, messages: list[dict[str, str]]) -> ChatReply:
        """One chat completion for ``messages`` (temperature 0).

        Raises:
            EndpointError: the endpoint failed after the retries, or replied with
                something that is not a chat completion.
        """
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": MAX_TOKENS,
        }
        headers = {"Content-Type": "application/json"}
        key = _api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        payload = self._post(request)
        try:
            return ChatReply(str(payload["choices"][0]["message"]["content"]), payload.get("model"))
        except (KeyError, IndexError, TypeError):
            raise EndpointError(f"{self.url} replied without choices[0].message") from None

    def _post(self, request: urllib.request.Request) -> dict:
        attempts = len(RETRY_DELAYS_S) + 1
        for attempt in range(attempts):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                retryable = exc.code == 429 or exc.code >= 500
                problem = f"HTTP {exc.code} {exc.reason}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                retryable, problem = True, str(getattr(exc, "reason", exc))
            except ValueError:
                retryable, problem = False, "a reply that is not JSON"
            if not retryable or attempt == attempts - 1:
                raise EndpointError(
                    f"--llm-base-url: {self.url} gave {problem} after {attempt + 1} attempt(s)"
                )
            time.sleep(RETRY_DELAYS_S[attempt])
        raise EndpointError(f"--llm-base-url: {self.url} was not tried")
