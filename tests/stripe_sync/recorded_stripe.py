"""A tiny HTTP server that answers like Stripe from recorded payloads.

For what localstripe lacks (Prices, schedules, invoice payments, credit notes,
proration lines) and for failure modes (5xx, 429, refused key): the real SDK
talks to it, so the client's whole call path runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "api"

Query = dict[str, list[str]]
Answer = tuple[int, Any]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def stripe_error(status: int, message: str, kind: str = "invalid_request_error") -> Answer:
    return status, {"error": {"type": kind, "message": message}}


class RecordedStripe(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._answers: dict[str, list[Answer | Callable[[Query], Answer]]] = {}
        self.requests: list[tuple[str, str, Query]] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, route: str, *answers: Any) -> None:
        """`route` is "GET /v1/path" or "GET /v1/path?customer=cus_x". Answers
        are given in order, the last one repeats; each is a body (200), a
        (status, body) pair, or a function of the query."""
        self._answers[route] = [
            a if callable(a) or (isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], int)) else (200, a)
            for a in answers
        ]

    def calls(self, path: str) -> int:
        return sum(1 for _, requested, _ in self.requests if requested == path)

    def respond(self, method: str, path: str, query: Query) -> Answer:
        with self._lock:
            self.requests.append((method, path, query))
            customer = query.get("customer", [None])[0]
            for route in (f"{method} {path}?customer={customer}", f"{method} {path}"):
                answers = self._answers.get(route)
                if answers:
                    answer = answers.pop(0) if len(answers) > 1 else answers[0]
                    break
            else:
                return stripe_error(404, f"Unrecognized request URL ({method}: {path})")
        return answer(query) if callable(answer) else answer


class _Handler(BaseHTTPRequestHandler):
    server: RecordedStripe

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode() if length else ""
        query = parse_qs(parts.query or form, keep_blank_values=True)
        status, body = self.server.respond(self.command, parts.path, query)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass
