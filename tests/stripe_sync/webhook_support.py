"""Signing and posting webhook deliveries the way Stripe does."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import stripe
from sqlalchemy import Engine

from stripe_sync.webhook import Limits, WebhookReceiver, WebhookServer, sign_payload

SECRET = "whsec_test_secret"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """The header Stripe would send: the SDK's own signer (so the receiver is
    checked against Stripe's code, not only ours), or for a body that is not
    UTF-8 (which the SDK cannot take) our signer over the bytes."""
    try:
        return stripe.WebhookSignature.generate_signature_header(body.decode("utf-8"), secret, timestamp)
    except UnicodeDecodeError:
        return sign_payload(body, secret, timestamp)


def event_body(
    event_id: str, event_type: str = "customer.subscription.updated", customer: str | None = "cus_1", **obj: Any
) -> bytes:
    payload = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": 1778241600,
        "api_version": "2025-09-30.clover",
        "data": {"object": {"object": "subscription", "id": "sub_1", "customer": customer, **obj}},
    }
    return json.dumps(payload).encode()


def post(
    url: str,
    body: bytes,
    signatures: list[str] | None = None,
    *,
    method: str = "POST",
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, str]:
    parts = urlsplit(url)
    conn = connection or http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest(method, parts.path or "/")
    conn.putheader("Content-Type", "application/json; charset=utf-8")
    conn.putheader("Content-Length", str(len(body)))
    for signature in signatures or []:
        conn.putheader("Stripe-Signature", signature)
    conn.endheaders(body)
    response = conn.getresponse()
    text = response.read().decode()
    if connection is None:
        conn.close()
    return response.status, text.strip()


@contextmanager
def running_server(
    engine: Engine, secret: str = SECRET, *, limits: Limits | None = None, **receiver_options: Any
) -> Iterator[WebhookServer]:
    """The receiver on a free loopback port, its event loop on a thread of its own."""
    server = WebhookServer(WebhookReceiver(engine, secret, **receiver_options), "127.0.0.1", 0, limits=limits)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="webhook-test-loop", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
        yield server
    finally:
        try:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(20)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()


@contextmanager
def hanging_stripe(accepted: list[socket.socket] | None = None) -> Iterator[str]:
    """A Stripe API base that accepts connections and never answers. Closing
    it at the end closes every accepted connection, so stuck calls fail at once.
    `accepted` receives the connections as they come (to wait for a client's first call)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    listener.settimeout(0.05)
    accepted = [] if accepted is None else accepted
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, name="hanging-stripe", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join(5)
        listener.close()
        for connection in accepted:
            connection.close()


def post_concurrently(url: str, deliveries: list[tuple[bytes, str]], concurrency: int) -> list[tuple[int, float]]:
    """Each delivery POSTed once, `concurrency` at a time on keep-alive
    connections: (status, seconds) per delivery, in order."""
    results: list[tuple[int, float] | None] = [None] * len(deliveries)
    queue = iter(enumerate(deliveries))
    lock = threading.Lock()
    parts = urlsplit(url)

    def client() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                index, (body, signature) = item
                started = time.monotonic()
                try:
                    status = post(url, body, [signature], connection=connection)[0]
                except OSError:
                    status = 0
                    connection.close()
                results[index] = (status, time.monotonic() - started)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return [result or (0, float("inf")) for result in results]


def exchange(url: str, data: bytes, *, wait: float = 5.0) -> tuple[bytes, float]:
    """Send raw bytes on a fresh connection; what comes back until the server
    closes it (or `wait` passes), and after how many seconds it closed."""
    parts = urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as connection:
        if data:
            connection.sendall(data)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            return received, float("inf")
        except ConnectionResetError:
            pass
    return received, time.monotonic() - started
