"""The webhook receiver: `POST /stripe/webhook`, verify, store, answer fast.

Only storing happens before the answer (domain.md 4.2 phase 1). Processing
of a customer's pending events, when a processor is given, runs after the
answer in a background thread, one run at a time per customer.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe
from sqlalchemy import Engine

from core.clock import utcnow
from stripe_sync.ingest import StoreOutcome, parse_event, store_event

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/stripe/webhook"
MAX_BODY_BYTES = 1024 * 1024  # Stripe events are far smaller
SIGNATURE_HEADER = "Stripe-Signature"


@dataclass(frozen=True)
class Reply:
    status: HTTPStatus
    message: str = ""


class CustomerRuns:
    """Runs `process(customer_id)` in background threads: never two at once for
    one customer; a request arriving during a run causes exactly one more run."""

    def __init__(self, process: Callable[[str], None]) -> None:
        self._process = process
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._threads: list[threading.Thread] = []

    def submit(self, customer_id: str) -> None:
        with self._lock:
            if customer_id in self._running:
                self._again.add(customer_id)
                return
            self._running.add(customer_id)
            thread = threading.Thread(target=self._run, args=(customer_id,), name=f"process-{customer_id}", daemon=True)
            # Started under the lock: `wait` must never see a thread it cannot join yet.
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _run(self, customer_id: str) -> None:
        while True:
            try:
                self._process(customer_id)
            except Exception:  # the events stay Pending; the next delivery or sync retries
                log.exception("processing pending Stripe events of %s failed", customer_id)
            with self._lock:
                if customer_id in self._again:
                    self._again.discard(customer_id)
                    continue
                self._running.discard(customer_id)
                return

    def wait(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


class WebhookReceiver:
    """Verifies and stores one delivery; knows nothing about HTTP framing."""

    def __init__(
        self,
        engine: Engine,
        secret: str,
        *,
        on_stored: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self._engine = engine
        self._secret = secret
        self._on_stored = on_stored
        self._clock = clock

    def receive(self, signatures: list[str], body: bytes) -> tuple[Reply, StoreOutcome | None]:
        if len(signatures) != 1:
            return Reply(HTTPStatus.BAD_REQUEST, "Stripe-Signature header missing or duplicated."), None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Reply(HTTPStatus.BAD_REQUEST, "Invalid webhook signature."), None
        try:
            stripe.Webhook.construct_event(text, signatures[0], self._secret)
        except stripe.SignatureVerificationError:
            return Reply(HTTPStatus.BAD_REQUEST, "Invalid webhook signature."), None
        except Exception:
            pass  # signed, but not an event: stored as malformed below
        with self._engine.begin() as conn:
            outcome = store_event(conn, body, parse_event(body), self._clock())
        return Reply(HTTPStatus.OK), outcome

    def after_reply(self, outcome: StoreOutcome | None) -> None:
        if outcome is not None and outcome.needs_processing and self._on_stored is not None:
            assert outcome.customer_id is not None
            self._on_stored(outcome.customer_id)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection for many deliveries
    server: WebhookServer

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        if self.path.split("?", 1)[0] != WEBHOOK_PATH:
            self._discard_body()
            self._reply(Reply(HTTPStatus.NOT_FOUND, "Not found."))
            return
        length = self._content_length()
        if length is None:
            self.close_connection = True
            self._reply(Reply(HTTPStatus.LENGTH_REQUIRED, "Content-Length required."))
            return
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Body too large."))
            return
        body = self.rfile.read(length)
        signatures = self.headers.get_all(SIGNATURE_HEADER) or []
        try:
            reply, outcome = self.server.receiver.receive(signatures, body)
        except Exception:
            log.exception("storing a Stripe webhook failed")
            self._reply(Reply(HTTPStatus.INTERNAL_SERVER_ERROR, "Could not store the event."))
            return
        self._reply(reply)
        if outcome is not None:
            log.info("%s %s %s", outcome.event_id, outcome.event_type, outcome.outcome.value)
        else:
            log.info("rejected delivery: %s", reply.message)
        self.server.receiver.after_reply(outcome)

    def _other_method(self) -> None:
        self._discard_body()
        if self.path.split("?", 1)[0] != WEBHOOK_PATH:
            self._reply(Reply(HTTPStatus.NOT_FOUND, "Not found."))
        else:
            self._reply(Reply(HTTPStatus.METHOD_NOT_ALLOWED, "Only POST is allowed."), allow="POST")

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other_method  # noqa: N815

    def _content_length(self) -> int | None:
        try:
            return max(0, int(self.headers.get("Content-Length", "")))
        except ValueError:
            return None

    def _discard_body(self) -> None:
        length = self._content_length()
        if length and length <= MAX_BODY_BYTES:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    def _reply(self, reply: Reply, allow: str | None = None) -> None:
        body = (reply.message + "\n").encode() if reply.message else b""
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # one line per event is logged by do_POST instead


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: WebhookReceiver, host: str = "127.0.0.1", port: int = 8787) -> None:
        self.receiver = receiver
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{WEBHOOK_PATH}"


def serve_until_signalled(server: WebhookServer, runs: CustomerRuns | None = None, *, drain_seconds: float = 10) -> None:
    """Serve until SIGINT/SIGTERM, then stop accepting, finish the requests in
    flight and give background processing a bounded time to finish."""

    def stop(signum: int, frame: object) -> None:
        log.info("stopping on signal %s", signal.Signals(signum).name)
        # shutdown() waits for serve_forever to return: not from its own thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if runs is not None:
            runs.wait(drain_seconds)
