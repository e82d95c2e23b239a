"""The receiver against hostile or broken input over real HTTP: every signed
body is stored once or refused with a 4xx (never a 500), bad framing is
refused, and slow or silent connections are cut off."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import time
from typing import Any

import pytest
from sqlalchemy import Engine, select

from db.models import StripeEvent
from stripe_sync import ingest
from stripe_sync.webhook import Limits
from tests.stripe_sync.webhook_support import event_body, exchange, post, running_server, sign

SHORT = Limits(idle_timeout=0.5, body_timeout=0.5)


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(StripeEvent).order_by(StripeEvent.id)))


def _event(**fields: Any) -> dict[str, Any]:
    return {**json.loads(event_body("evt_base")), **fields}


def _nested(depth: int) -> dict[str, Any]:
    inner: Any = "bottom"
    for _ in range(depth):
        inner = {"x": inner}
    return _event(id="evt_deep", data={"object": inner})


def _hash_id(body: bytes) -> str:
    return f"evt_malformed_{hashlib.sha256(body).hexdigest()[:24]}"


MALFORMED = {
    "NUL in the event id": (json.dumps(_event(id="evt_a\u0000b")).encode(), "event id is not a Stripe event id"),
    "an id thousands of characters long": (
        json.dumps(_event(id="evt_" + "x" * 5000)).encode(),
        "event id is not a Stripe event id",
    ),
    "a lone surrogate in the id": (json.dumps(_event(id="evt_\ud800")).encode(), "event id is not a Stripe event id"),
    "JSON nested deeper than the parser goes": (
        b'{"id": "evt_x", "type": "t", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "body is not JSON",
    ),
    "an event nested too deeply": (json.dumps(_nested(200)).encode(), "event is nested too deeply"),
    "created far in the future": (json.dumps(_event(created=10**20)).encode(), "event created is not a time"),
    "created before 1970": (json.dumps(_event(created=-(10**15))).encode(), "event created is not a time"),
    "created as text": (json.dumps(_event(created="yesterday")).encode(), "event created is not a time"),
    "NaN": (b'{"id": "evt_nan", "type": "t", "created": NaN}', "body is not JSON"),
    "a body that is not UTF-8": (b'{"id": "evt_latin1", "type": "caf\xe9"}', "body is not JSON"),
    "a JSON array": (b"[1, 2, 3]", "body is not a JSON object"),
    "a JSON string": (b'"evt_just_a_string"', "body is not a JSON object"),
    "an empty body": (b"", "body is not JSON"),
    "data that is a list": (json.dumps(_event(data=[1])).encode(), "event data is not an object"),
    "a type with a newline": (
        json.dumps(_event(type="customer.updated\nforged")).encode(),
        "event type is not a Stripe event type",
    ),
    "a customer id with a NUL": (
        json.dumps(_event(data={"object": {"object": "subscription", "customer": "cus_\u0000"}})).encode(),
        "event customer is not a Stripe customer id",
    ),
    "an api_version with an escape": (
        json.dumps(_event(api_version="2025\x1b[31m")).encode(),
        "event api_version is not a Stripe API version",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_every_signed_body_is_stored_once_as_failed_under_its_hash(engine: Engine, case: str) -> None:
    body, reason = MALFORMED[case]
    with running_server(engine) as server:
        assert post(server.url, body, [sign(body)])[0] == 200
        assert post(server.url, body, [sign(body)])[0] == 200  # a redelivery: still one row
    [row] = _rows(engine)
    assert (row.id, row.status, row.error, row.payload_hash) == (
        _hash_id(body),
        "Failed",
        reason,
        hashlib.sha256(body).hexdigest(),
    )


def test_a_payload_postgres_cannot_store_keeps_its_id_and_stays_signed_evidence(engine: Engine) -> None:
    body = event_body("evt_nul_value", note="a\u0000b")
    with running_server(engine) as server:
        assert post(server.url, body, [sign(body)])[0] == 200
    [row] = _rows(engine)
    assert (row.id, row.status, row.payload, row.payload_hash) == (
        "evt_nul_value",
        "Failed",
        None,
        hashlib.sha256(body).hexdigest(),
    )
    assert row.error.startswith("payload not storable")


def test_a_value_postgres_refuses_that_the_checks_miss_is_still_kept(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "_unstorable", lambda event: None)
    body = event_body("evt_unforeseen", note="a\u0000b")
    with running_server(engine) as server:
        assert post(server.url, body, [sign(body)])[0] == 200
    [row] = _rows(engine)
    assert (row.id, row.status, row.payload) == ("evt_unforeseen", "Failed", None)
    assert row.error.startswith("payload not storable: ")


def test_a_signature_from_the_future_is_refused(engine: Engine) -> None:
    body = event_body("evt_future")
    with running_server(engine) as server:
        assert post(server.url, body, [sign(body, timestamp=int(time.time()) + 600)]) == (
            400,
            "Invalid webhook signature.",
        )
        assert (
            post(server.url, body, [sign(body, timestamp=int(time.time()) + 60)])[0] == 200
        )  # clock skew within the tolerance
    assert [row.id for row in _rows(engine)] == ["evt_future"]


@pytest.mark.parametrize(
    "header",
    ["t=abc,v1=00", "v1=" + "0" * 64, "t=" + "9" * 40 + ",v1=" + "0" * 64, "t=1700000000,v1=\u00e9\u00e9", ""],
    ids=["garbled time", "no time", "huge time", "non-ASCII signature", "empty"],
)
def test_garbled_signature_headers_are_400(engine: Engine, header: str) -> None:
    body = event_body("evt_garbled")
    with running_server(engine) as server:
        status = exchange(
            server.url,
            b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\nStripe-Signature: %s\r\n\r\n%s"
            % (len(body), header.encode(), body),
        )[0].split(b"\r\n", 1)[0]
    assert status == b"HTTP/1.1 400 Bad Request"
    assert _rows(engine) == []


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", b"400"),
        (b"POST //stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", b"404"),
        (b"POST /stripe/webhook/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", b"404"),
        (b"TRACE /stripe/webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"405"),
        (b"HEAD /stripe/webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"405"),
        (b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"411"),
        pytest.param(
            b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n",
            b"413",
            marks=pytest.mark.slow,
        ),
        (b"GARBAGE\r\n\r\n", b"400"),
    ],
    ids=[
        "negative length",
        "two lengths",
        "double slash",
        "trailing slash",
        "TRACE",
        "HEAD",
        "no length",
        "too long",
        "garbage",
    ],
)
def test_bad_framing_is_refused(engine: Engine, request_bytes: bytes, status: bytes) -> None:
    with running_server(engine) as server:
        answer, _ = exchange(server.url, request_bytes)
    assert answer.split(b" ", 2)[1] == status
    if status == b"405":
        assert b"\r\nAllow: POST\r\n" in answer
    assert _rows(engine) == []


def test_a_chunked_body_over_a_mebibyte_is_413(engine: Engine) -> None:
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17)) + b"0\r\n\r\n"
    with running_server(engine) as server:
        answer, _ = exchange(
            server.url,
            b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nStripe-Signature: t=1,v1=0\r\n\r\n"
            + body,
        )
    assert answer.startswith(b"HTTP/1.1 413")
    assert _rows(engine) == []


@pytest.mark.parametrize(
    "opening",
    [b"", b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Le"],
    ids=["silent client", "partial head"],
)
def test_a_connection_without_a_whole_request_is_closed_after_the_idle_timeout(engine: Engine, opening: bytes) -> None:
    with running_server(engine, limits=SHORT) as server:
        answer, closed_after = exchange(server.url, opening)
    assert answer == b"" and closed_after < 2


def test_trickled_headers_do_not_keep_a_connection_open(engine: Engine) -> None:
    head = b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: y\r\n" * 100
    with running_server(engine, limits=SHORT) as server:
        parts = server.url.split("/")[2].split(":")
        started = time.monotonic()
        with socket.create_connection((parts[0], int(parts[1])), timeout=5) as connection:
            try:
                for byte in head:  # one byte every 50 ms: never a whole head
                    connection.sendall(bytes([byte]))
                    time.sleep(0.05)
            except OSError:
                pass
            closed_after = time.monotonic() - started
    assert closed_after < 2


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(engine: Engine) -> None:
    with running_server(engine, limits=SHORT) as server:
        answer, closed_after = exchange(server.url, b"GET /stripe/webhook HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405") and closed_after < 2


@pytest.mark.slow
def test_a_trickled_body_is_cut_off_with_408(engine: Engine) -> None:
    with running_server(engine, limits=SHORT) as server:
        answer, closed_after = exchange(
            server.url,
            b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nStripe-Signature: t=1,v1=0\r\nContent-Length: 100\r\n\r\n{",
        )
    assert answer.startswith(b"HTTP/1.1 408") and closed_after < 3
    assert _rows(engine) == []


def test_connections_beyond_the_cap_are_closed_at_once(engine: Engine) -> None:
    parts: list[socket.socket] = []
    with running_server(engine, limits=Limits(max_connections=2)) as server:
        host, port = server.url.split("/")[2].split(":")
        try:
            parts = [socket.create_connection((host, int(port)), timeout=5) for _ in range(2)]
            time.sleep(0.1)
            answer, closed_after = exchange(server.url, b"")
            assert answer == b"" and closed_after < 1
        finally:
            for connection in parts:
                connection.close()


def test_a_malformed_delivery_is_one_log_line(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(_event(id="evt_x\n2026-01-01 forged")).encode()
    with caplog.at_level(logging.DEBUG, logger="stripe_sync"), running_server(engine) as server:
        assert post(server.url, body, [sign(body)])[0] == 200
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("stripe_sync") and r.levelno >= logging.INFO]
    assert lines == [
        f'{_hash_id(body)} customer.subscription.updated malformed: event id is not a Stripe event id (its id: "evt_x\n2026-01-01 forged")'
    ]


def test_a_lone_surrogate_in_a_claimed_id_is_logged_escaped(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(_event(id="evt_\ud800")).encode()
    with caplog.at_level(logging.INFO, logger="stripe_sync.webhook"), running_server(engine) as server:
        assert post(server.url, body, [sign(body)])[0] == 200
    [line] = [r.getMessage() for r in caplog.records if r.name == "stripe_sync.webhook"]
    assert line.endswith('(its id: "evt_\\ud800")')
    line.encode("utf-8")
