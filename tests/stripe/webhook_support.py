"""Signing and posting webhook deliveries the way Stripe does."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import stripe
from sqlalchemy import Engine

from stripe_sync.webhook import WebhookReceiver, WebhookServer

SECRET = "whsec_test_secret"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode("utf-8"), secret, timestamp)


def event_body(event_id: str, event_type: str = "customer.subscription.updated", customer: str | None = "cus_1", **obj: Any) -> bytes:
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
def running_server(engine: Engine, secret: str = SECRET, **receiver_options: Any) -> Iterator[WebhookServer]:
    server = WebhookServer(WebhookReceiver(engine, secret, **receiver_options), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
