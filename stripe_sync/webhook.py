"""The webhook receiver: `POST /stripe/webhook`, verify, store, answer fast.

Only storing happens before the answer (docs/rules.md R4). Processing
of a customer's pending events, when a processor is given, runs after the
answer on a small pool of worker threads, one run at a time per customer.

The HTTP side is aiohttp's server on one event loop: every connection gets
deadlines (an idle or silent connection, or one trickling its request head,
is closed after `Limits.idle_timeout`; a body has `Limits.body_timeout`),
bodies are capped at 1 MiB, and storing runs on a bounded thread pool so the
loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.exc import DataError

from core.clock import utcnow
from stripe_sync.ingest import Outcome, StoreOutcome, parse_event, store_event

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/stripe/webhook"
MAX_BODY_BYTES = 1024 * 1024  # Stripe events are far smaller
SIGNATURE_HEADER = "Stripe-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300  # the Stripe SDK's default, applied both ways
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Reply:
    status: HTTPStatus
    message: str = ""


@dataclass(frozen=True)
class Limits:
    """The receiver's deadlines and bounds."""

    # Both under 30 s with room for the event loop's lateness.
    idle_timeout: float = 25.0  # an idle keep-alive connection, or one without a whole request head yet
    body_timeout: float = 25.0  # to send the body once the head is in
    store_threads: int = 8  # deliveries stored at once; the store engine's pool needs as many connections
    admitted_requests: int = 64  # requests past their head waiting to be stored; the rest wait unread
    max_connections: int = 4096  # connections beyond are closed as they arrive
    backlog: int = 1024
    shutdown_timeout: float = 5.0  # for requests in flight when stopping


# -- processing after the answer -----------------------------------------------


class CustomerRuns:
    """Runs `process(customer_id)` on `workers` daemon threads: never two at
    once for one customer; a request arriving during a run causes exactly one
    more run, started no sooner than `spacing` seconds after the previous one
    started (a burst of one customer's events is then processed in a few runs,
    not one run per event). A run stuck on Stripe ties up one worker, never the
    receiver, and never keeps the process from exiting (its events stay Pending)."""

    def __init__(self, process: Callable[[str], None], *, workers: int = 4, spacing: float = 0.0) -> None:
        self._process = process
        self._spacing = spacing
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: dict[str, float] = {}  # customer -> not before (monotonic); in arrival order
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._stopped = False
        for index in range(workers):
            threading.Thread(target=self._work, name=f"stripe-processing-{index}", daemon=True).start()

    def submit(self, customer_id: str) -> None:
        with self._lock:
            if self._stopped or customer_id in self._queue:
                return  # a queued run will see this customer's new events too
            if customer_id in self._running:
                self._again.add(customer_id)
                return
            self._enqueue(customer_id, time.monotonic())

    def wait(self, timeout: float) -> bool:
        """Wait until nothing is queued or running; False on timeout."""
        with self._lock:
            return self._changed.wait_for(lambda: not self._queue and not self._running, timeout)

    def stop(self) -> None:
        """Start no more runs; runs in progress finish (or not) on their own."""
        with self._lock:
            self._stopped = True
            self._queue.clear()
            self._changed.notify_all()

    def _enqueue(self, customer_id: str, not_before: float) -> None:
        self._queue[customer_id] = not_before
        self._changed.notify_all()

    def _next(self) -> str | None:
        """The first queued customer that may run now (waiting for one), or None once stopped."""
        with self._lock:
            while not self._stopped:
                now = time.monotonic()
                ready = next((customer for customer, not_before in self._queue.items() if not_before <= now), None)
                if ready is not None:
                    del self._queue[ready]
                    self._running.add(ready)
                    return ready
                self._changed.wait(min(self._queue.values()) - now if self._queue else None)
            return None

    def _work(self) -> None:
        while (customer_id := self._next()) is not None:
            started = time.monotonic()
            try:
                self._process(customer_id)
            except Exception as error:  # the events stay Pending; the next delivery or sync retries
                log.warning("processing pending Stripe events of %s failed: %s", customer_id, one_line(error))
            with self._lock:
                self._running.discard(customer_id)
                if customer_id in self._again:
                    self._again.discard(customer_id)
                    if not self._stopped:
                        self._enqueue(customer_id, started + self._spacing)  # behind the customers already waiting
                self._changed.notify_all()


def one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# -- verifying and storing -----------------------------------------------------


def signature_is_valid(
    header: str, body: bytes, secret: str, now: float, tolerance: float = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """Stripe's scheme: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">[,v1=...]`.
    Checked over the raw bytes (any body Stripe signs can be stored), and the
    time both ways: the SDK only refuses old signatures, not future ones."""
    timestamp, candidates = _signature_parts(header)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = _digest(body, secret, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def sign_payload(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send for `body`, over the raw
    bytes, so the tests and the benchmark can deliver events we accept."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},v1={_digest(body, secret, at)}"


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def _signature_parts(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and _SIGNATURE.fullmatch(value):
            candidates.append(value)
    return timestamp, candidates


class WebhookReceiver:
    """Verifies and stores one delivery; knows nothing about HTTP framing.
    `receive` blocks on the database: the server runs it on its store pool."""

    def __init__(
        self,
        engine: Engine,
        secret: str,
        *,
        on_stored: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self._engine = engine
        self._secret = secret
        self._on_stored = on_stored
        self._clock = clock
        self._tolerance = tolerance

    def receive(self, signatures: list[str], body: bytes) -> tuple[Reply, StoreOutcome | None]:
        if len(signatures) != 1:
            return Reply(HTTPStatus.BAD_REQUEST, "Stripe-Signature header missing or duplicated."), None
        now = self._clock()
        if not signature_is_valid(signatures[0], body, self._secret, now.timestamp(), self._tolerance):
            return Reply(HTTPStatus.BAD_REQUEST, "Invalid webhook signature."), None
        event = parse_event(body)
        try:
            with self._engine.begin() as conn:  # this delivery alone: no savepoint needed
                outcome = store_event(conn, body, event, now, savepoint=False)
        except DataError:  # refused by PostgreSQL after all: again, kept as Failed if so
            with self._engine.begin() as conn:
                outcome = store_event(conn, body, event, now)
        return Reply(HTTPStatus.OK), outcome

    def after_reply(self, outcome: StoreOutcome | None) -> None:
        if outcome is not None and outcome.needs_processing and self._on_stored is not None:
            assert outcome.customer_id is not None
            self._on_stored(outcome.customer_id)


def log_delivery(reply: Reply, outcome: StoreOutcome | None) -> None:
    """The one line per delivery (the CLI's log formatter escapes it)."""
    if outcome is None:
        log.info("rejected delivery: %s", reply.message)
    elif outcome.outcome is Outcome.malformed:
        claimed = f' (its id: "{outcome.claimed_id}")' if outcome.claimed_id else ""
        log.info("%s %s malformed: %s%s", outcome.event_id, outcome.event_type, outcome.error, claimed)
    else:
        log.info("%s %s %s", outcome.event_id, outcome.event_type, outcome.outcome.value)


# -- HTTP ----------------------------------------------------------------------


class CannotListen(OSError):
    """The address is taken or not ours to bind."""


class _CappedServer(web.Server):
    """aiohttp's low-level server, refusing connections beyond a cap."""

    def __init__(self, handler: Any, *, max_connections: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._max_connections = max_connections

    def connection_made(self, handler: Any, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        if len(self._connections) > self._max_connections:
            transport.close()


def _response(reply: Reply, *, allow: str | None = None, close: bool = False) -> web.Response:
    response = web.Response(
        status=reply.status, text=f"{reply.message}\n" if reply.message else "", content_type="text/plain"
    )
    if allow:
        response.headers["Allow"] = allow
    if close:
        response.force_close()
    return response


class WebhookServer:
    """Serves a receiver over HTTP on the running event loop."""

    def __init__(
        self, receiver: WebhookReceiver, host: str = "127.0.0.1", port: int = 8787, *, limits: Limits | None = None
    ) -> None:
        self.receiver = receiver
        self.limits = limits or Limits()
        self._host = host
        self._port = port
        self._runner: web.ServerRunner | None = None
        self._store_pool: ThreadPoolExecutor | None = None
        self._admission: asyncio.Semaphore | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen; the URL deliveries go to. Raises CannotListen."""
        limits = self.limits
        server = _CappedServer(
            self._handle,
            max_connections=limits.max_connections,
            keepalive_timeout=limits.idle_timeout,
            lingering_time=1.0,  # the unread rest of a refused body is read this long, then the connection closes
            access_log=None,
        )
        self._runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=limits.shutdown_timeout)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, backlog=limits.backlog)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            reason = os.strerror(error.errno) if error.errno else str(error)
            raise CannotListen(error.errno, reason) from None
        self._store_pool = ThreadPoolExecutor(limits.store_threads, thread_name_prefix="webhook-store")
        self._admission = asyncio.Semaphore(limits.admitted_requests)
        host, port = self._runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
        self.url = f"http://{shown}:{port}{WEBHOOK_PATH}"
        return self.url

    async def stop(self) -> None:
        """Stop listening, let the requests in flight finish (up to the
        shutdown timeout) and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._store_pool is not None:
            pool, self._store_pool = self._store_pool, None
            await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.raw_path.split("?", 1)[0] != WEBHOOK_PATH:
            return _response(Reply(HTTPStatus.NOT_FOUND, "Not found."))
        if request.method != "POST":
            return _response(Reply(HTTPStatus.METHOD_NOT_ALLOWED, "Only POST is allowed."), allow="POST")
        refusal = _framing_refusal(request)
        if refusal is not None:
            log_delivery(refusal, None)
            return _response(refusal, close=True)
        assert self._admission is not None
        async with self._admission:
            body = await self._read_body(request)
            if isinstance(body, Reply):
                log_delivery(body, None)
                return _response(body, close=True)
            reply, outcome = await self._store(request.headers.getall(SIGNATURE_HEADER, []), body)
        log_delivery(reply, outcome)
        self.receiver.after_reply(outcome)
        return _response(reply)

    async def _read_body(self, request: web.BaseRequest) -> bytes | Reply:
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                return await request.read()
        except TimeoutError:
            return Reply(HTTPStatus.REQUEST_TIMEOUT, "Body not received in time.")
        except web.HTTPRequestEntityTooLarge:
            return Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Body too large.")
        except Exception as error:  # the client went away or broke the framing mid-body
            return Reply(HTTPStatus.BAD_REQUEST, f"Body could not be read ({type(error).__name__}).")

    async def _store(self, signatures: list[str], body: bytes) -> tuple[Reply, StoreOutcome | None]:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._store_pool, self.receiver.receive, signatures, body)
        except Exception as error:  # the database failed: Stripe retries on a 500
            log.warning("storing a Stripe delivery failed: %s", one_line(error))
            return Reply(HTTPStatus.INTERNAL_SERVER_ERROR, "Could not store the event."), None


def _framing_refusal(request: web.BaseRequest) -> Reply | None:
    length = request.content_length
    if length is None and not request.body_exists:
        return Reply(HTTPStatus.LENGTH_REQUIRED, "Content-Length required.")
    if length is not None and length > MAX_BODY_BYTES:
        return Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Body too large.")
    return None


# -- running until a signal ----------------------------------------------------


def serve_until_signalled(
    server: WebhookServer, runs: CustomerRuns | None = None, *, on_listening: Callable[[str], None] | None = None
) -> None:
    """Serve until SIGINT/SIGTERM, then stop accepting, finish the requests in
    flight and leave: background processing is not waited for."""
    asyncio.run(_serve(server, runs, on_listening))


async def _serve(server: WebhookServer, runs: CustomerRuns | None, on_listening: Callable[[str], None] | None) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_log_loop_error)
    url = await server.start()
    # What exists now (modules, engines, the server) lives as long as the
    # process: frozen, a full collection no longer walks it, which otherwise
    # pauses every request in flight for tens of milliseconds.
    gc.collect()
    gc.freeze()
    if on_listening is not None:
        on_listening(url)
    stopping = asyncio.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        loop.add_signal_handler(sig, _on_signal, sig, stopping)
    try:
        await stopping.wait()
    finally:
        try:
            await server.stop()
        finally:
            if runs is not None:
                runs.stop()
            for sig, handler in previous.items():
                loop.remove_signal_handler(sig)
                signal.signal(sig, handler)


def _on_signal(sig: signal.Signals, stopping: asyncio.Event) -> None:
    if not stopping.is_set():
        log.info("stopping on signal %s", signal.Signals(sig).name)
    stopping.set()


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: Mapping[str, Any]) -> None:
    error = context.get("exception")
    detail = f": {type(error).__name__}: {one_line(error)}" if isinstance(error, BaseException) else ""
    log.warning("event loop: %s%s", context.get("message", "error"), detail)
