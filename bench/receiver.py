"""The webhook receiver's figures: `python -m bench.receiver` (also part of `make bench`).

The receiver runs as the real command (`backoffice stripe webhook --port 0`)
in a process of its own, on a small database of its own on the benchmark's
embedded server, with STRIPE_API_KEY set so every delivery starts processing
(the customers have subscriptions, so processing calls Stripe). Stripe is,
in turn: a fast local stub that answers like Stripe ("up"), a closed port
("refusing") and a server that accepts and never answers ("hanging"; the
client's own 20 s timeout and retries apply, nothing is shortened).

For each, signed deliveries at concurrency 20 for a few seconds: requests/s,
p50/p99/max and how many were answered 200 and stored. Then 1,000 slow
clients (a partial request head, then nothing): the RSS they add to the
receiver, the p99 of normal deliveries meanwhile, and how long until the
receiver closes them and an idle keep-alive connection. Last, how long the
receiver takes to stop on SIGTERM.

Every load goes to 127.0.0.1, is bounded in count and time, and every server
and process started here is stopped when it ends, however it ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, insert
from sqlalchemy import select as sql_select

from bench.results import run_alone, verdict

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench_receiver"
SECRET = "whsec_bench_receiver"
API_KEY = "sk_test_bench_receiver"

CONCURRENCY = 20
LOAD_SECONDS = 5.0
WARM_UP_SECONDS = 1.0
MAX_REQUESTS = 20_000
REQUEST_TIMEOUT_S = 10.0  # a delivery not answered by then counts as failed
CUSTOMERS = 40
SLOW_CLIENTS = 1_000
CLOSE_WAIT_S = 35.0  # how long to watch for the receiver closing slow and idle connections
STOP_WAIT_S = 20.0  # after SIGTERM, before SIGKILL

BUDGET_P99_MS = 100.0
BUDGET_RSS_MB = 50.0
BUDGET_CLOSE_S = 30.0
BUDGET_STOP_S = 10.0


# -- the database --------------------------------------------------------------


def _fresh_database() -> str:
    """A migrated, empty database on the benchmark's server, with CUSTOMERS
    subscriptions; its SQLAlchemy URL."""
    from bench import dataset

    return dataset.scratch_database(DATABASE, _seed_subscriptions)


def _customer(index: int) -> str:
    return f"cus_bench{index:04d}"


def _seed_subscriptions(engine: Any) -> None:
    from core import ids
    from db.models import Subscription, Tenant

    created = datetime.now(UTC) - timedelta(days=100)
    with engine.begin() as conn:
        for index in range(CUSTOMERS):
            tenant_id = ids.tenant_id(created, index + 1)
            conn.execute(
                insert(Tenant).values(
                    id=tenant_id, created_at=created, name=f"Bench {index}", state="Active", plan="Standard"
                )
            )
            conn.execute(
                insert(Subscription).values(
                    tenant_id=tenant_id,
                    id=f"sub_local_bench{index:04d}",
                    created_at=created,
                    plan="Standard",
                    cancel_at_period_end=False,
                    payment_transactions=[],
                    stripe_customer_id=_customer(index),
                    stripe_subscription_id=f"sub_bench{index:04d}",
                    current_price_amount=Decimal("149.00"),
                    current_price_currency="DKK",
                    current_period_end=datetime.now(UTC) + timedelta(days=20),
                    subscribed_since=created,
                )
            )


def _stored(url: str, prefix: str) -> dict[str, int]:
    """Rows stored under `prefix`, and how many of them processing has done."""
    from db.models import StripeEvent

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sql_select(StripeEvent.status, func.count())
                .where(StripeEvent.id.like(f"{prefix}%"))
                .group_by(StripeEvent.status)
            ).all()
    finally:
        engine.dispose()
    by_status = {status: int(count) for status, count in rows}
    return {"stored": sum(by_status.values()), "processed": by_status.get("Processed", 0)}


def _drop_database() -> None:
    from bench import dataset

    dataset.drop_scratch_database(DATABASE)


# -- Stripe, three ways ----------------------------------------------------------


def _list(data: list[dict[str, Any]], path: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "url": path}


_PRICES = [
    {
        "id": f"price_{key}",
        "object": "price",
        "lookup_key": key,
        "unit_amount": amount,
        "currency": "dkk",
        "product": f"prod_{key}",
        "recurring": {"interval": "month", "interval_count": 1},
        "active": True,
        "tax_behavior": "exclusive",
    }
    for key, amount in (("standard_monthly", 14900), ("premium_monthly", 29900))
]


class _StripeStub(BaseHTTPRequestHandler):
    """Answers the reads processing makes like Stripe would, at once: the
    catalog, an empty events list, the customer, no live subscription."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self.path.split("?", 1)[0]
        if path == "/v1/prices":
            answer = _list(_PRICES, path)
        elif path.startswith("/v1/customers/"):
            customer_id = path.rsplit("/", 1)[1]
            answer = {
                "id": customer_id,
                "object": "customer",
                "name": "Bench",
                "email": "billing@example.com",
                "address": {"country": "DK", "line1": "Bench 1", "postal_code": "1000", "city": "Copenhagen"},
                "invoice_settings": {"default_payment_method": None},
                "tax_ids": _list([], "/v1/tax_ids"),
            }
        else:  # events, subscriptions, invoices, charges, credit notes, payment methods
            answer = _list([], path)
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_bench")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up is no news here


@contextmanager
def _stripe_up() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _StripeStub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def _stripe_refusing() -> Iterator[str]:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


@contextmanager
def _stripe_hanging() -> Iterator[str]:
    """Accepts connections and never answers; closes them all at the end."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=256)
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                accepted.append(listener.accept()[0])
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join(5)
        listener.close()
        for connection in accepted:
            connection.close()


STRIPES = {"up": _stripe_up, "refusing": _stripe_refusing, "hanging": _stripe_hanging}


# -- the receiver process ------------------------------------------------------


@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) / 1024 if found else float("nan")


def _start_receiver(database_url: str, stripe_url: str, log_path: Path) -> Receiver:
    env = {**os.environ, "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": stripe_url}
    env.pop("BACKOFFICE_DEBUG", None)
    command = [
        sys.executable,
        "-c",
        "from console.cli import main; main()",
        "--database-url",
        database_url,
        "stripe",
        "webhook",
        "--port",
        "0",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://\S+)", log_path.read_text(errors="replace"))
        if found:
            return Receiver(process, found.group(1), log_path)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    _kill(process)
    tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
    raise RuntimeError(f"the receiver did not start: {tail[0]}")


def _stop_receiver(receiver: Receiver) -> float | None:
    """Seconds from SIGTERM to exit; None when it had to be killed."""
    if receiver.process.poll() is not None:
        return None
    started = time.monotonic()
    receiver.process.send_signal(signal.SIGTERM)
    try:
        receiver.process.wait(STOP_WAIT_S)
        return time.monotonic() - started
    except subprocess.TimeoutExpired:
        _kill(receiver.process)
        return None


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)


@contextmanager
def _receiver(database_url: str, stripe_url: str, log_path: Path, stops: list[float | None]) -> Iterator[Receiver]:
    receiver = _start_receiver(database_url, stripe_url, log_path)
    try:
        yield receiver
    finally:
        stops.append(_stop_receiver(receiver))


# -- load ---------------------------------------------------------------------------


def _signed(event_id: str, customer: str) -> tuple[bytes, str]:
    from stripe_sync.webhook import sign_payload

    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.subscription.updated",
            "created": int(time.time()),
            "api_version": "2025-10-29.clover",
            "data": {"object": {"object": "subscription", "id": "sub_bench", "customer": customer, "status": "active"}},
        }
    ).encode()
    return body, sign_payload(body, SECRET)


@dataclass
class Load:
    requests: int
    ok: int
    failed: int
    seconds: float
    latencies_ms: list[float]

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms) or [float("nan")]
        return {
            "requests": self.requests,
            "ok": self.ok,
            "failed": self.failed,
            "requests_per_s": self.requests / self.seconds if self.seconds else 0.0,
            "p50_ms": statistics.median(ordered),
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "max_ms": ordered[-1],
        }


async def _load(url: str, prefix: str, seconds: float = LOAD_SECONDS) -> Load:
    """CONCURRENCY clients, each on a keep-alive connection, posting signed
    deliveries until `seconds` or MAX_REQUESTS."""
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0}
    sequence = iter(range(MAX_REQUESTS))
    deadline = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def client(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline and (n := next(sequence, None)) is not None:
            body, signature = _signed(f"{prefix}{n:06d}", _customer(n % CUSTOMERS))
            started = time.perf_counter()
            try:
                async with session.post(
                    url, data=body, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
                ) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            latencies.append((time.perf_counter() - started) * 1000)
            counts["ok" if status == 200 else "failed"] += 1

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(CONCURRENCY)))
        elapsed = time.monotonic() - started
    return Load(len(latencies), counts["ok"], counts["failed"], elapsed, latencies)


# -- slow clients -------------------------------------------------------------------


def _slow_clients(url: str, count: int) -> list[tuple[socket.socket, float]]:
    """Connections that send part of a request head and then nothing, each with when it was opened."""
    parts = urlsplit(url)
    partial = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Le".encode()
    clients = []
    for _ in range(count):
        try:
            connection = socket.create_connection((parts.hostname, parts.port), timeout=5)
            connection.sendall(partial)
            clients.append((connection, time.monotonic()))
        except OSError:
            break
    return clients


def _idle_keep_alive(url: str) -> tuple[socket.socket, float]:
    """A connection that made one request (keep-alive) and then stays idle, with when its answer came."""
    parts = urlsplit(url)
    connection = socket.create_connection((parts.hostname, parts.port), timeout=5)
    connection.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\n\r\n".encode())
    connection.recv(65536)  # the 405 answer; the connection stays open
    return connection, time.monotonic()


def _closed_after(connections: list[tuple[socket.socket, float]], limit: float) -> list[float | None]:
    """For each connection, seconds from its last activity until the peer
    closed it (None: still open `limit` seconds after the first)."""
    closed: dict[int, float] = {}
    by_fd = {connection.fileno(): (connection, since) for connection, since in connections}
    first = min(since for _, since in connections)
    poller = select.poll()
    for fd in by_fd:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while len(closed) < len(by_fd) and time.monotonic() - first < limit:
        for fd, _ in poller.poll(200):
            if fd in closed:
                continue
            connection, since = by_fd[fd]
            try:
                data = connection.recv(65536)
            except OSError:
                data = b""
            if not data:
                closed[fd] = time.monotonic() - since
                poller.unregister(fd)
    return [closed.get(fd) for fd in by_fd]


def _slow_client_figures(receiver: Receiver) -> dict[str, Any]:
    asyncio.run(_load(receiver.url, "evt_bench_warm_slow_", seconds=WARM_UP_SECONDS))
    baseline = receiver.rss_mb
    idle = _idle_keep_alive(receiver.url)
    clients = _slow_clients(receiver.url, SLOW_CLIENTS)
    try:
        time.sleep(1.0)
        with_clients = receiver.rss_mb
        during = asyncio.run(_load(receiver.url, "evt_bench_slow_"))
        peak = max(with_clients, receiver.rss_mb)
        closes = _closed_after([idle, *clients], CLOSE_WAIT_S)
    finally:
        for connection, _ in [idle, *clients]:
            connection.close()
    slow_closes = closes[1:]
    return {
        "slow_clients": len(clients),
        "rss_before_mb": baseline,
        "rss_with_slow_clients_mb": peak,
        "rss_added_mb": peak - baseline,
        "load_meanwhile": during.figures(),
        "idle_keep_alive_closed_after_s": closes[0],
        "slow_clients_closed": sum(1 for c in slow_closes if c is not None),
        "slow_clients_closed_after_max_s": max((c for c in slow_closes if c is not None), default=None),
    }


# -- the whole run ---------------------------------------------------------------


def measure(log: Any = print) -> dict[str, Any]:
    """Every scenario; the receiver's figures as a JSON-ready dict, or
    `{"error": ...}` so the rest of `make bench` still reports."""
    try:
        return _measure(log)
    except Exception as error:
        lines = str(error).strip().splitlines()
        return {"error": f"{type(error).__name__}: {lines[0] if lines else ''}"}


def _measure(log: Any) -> dict[str, Any]:
    scenarios: dict[str, Any] = {}
    stops: list[float | None] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-receiver-") as folder:
            for name, stripe in STRIPES.items():
                # A database of its own: events left Pending by a Stripe outage
                # would otherwise be caught up on during the next run.
                database_url = _fresh_database()
                prefix = f"evt_bench_{name}_"
                with ExitStack() as stack:
                    stripe_url = stack.enter_context(stripe())
                    receiver = stack.enter_context(
                        _receiver(database_url, stripe_url, Path(folder) / f"{name}.log", stops)
                    )
                    # Steady state: the pools' connections are open, the statements compiled.
                    asyncio.run(_load(receiver.url, f"evt_bench_warm_{name}_", seconds=WARM_UP_SECONDS))
                    load = asyncio.run(_load(receiver.url, prefix))
                log(f"  Stripe {name}: {load.ok}/{load.requests} answered 200")
                scenarios[name] = {**load.figures(), **_stored(database_url, prefix)}
            database_url = _fresh_database()
            with ExitStack() as stack:
                stripe_url = stack.enter_context(_stripe_up())
                receiver = stack.enter_context(_receiver(database_url, stripe_url, Path(folder) / "slow.log", stops))
                slow = _slow_client_figures(receiver)
            log(f"  {slow['slow_clients']} slow clients: +{slow['rss_added_mb']:.1f} MB")
            tracebacks = sum(path.read_text(errors="replace").count("Traceback") for path in Path(folder).glob("*.log"))
    finally:
        _drop_database()
    known = [s for s in stops if s is not None]
    return {
        "concurrency": CONCURRENCY,
        "load_seconds": LOAD_SECONDS,
        "scenarios": scenarios,
        "slow_clients": slow,
        "stop_after_sigterm_max_s": max(known) if len(known) == len(stops) else None,
        "tracebacks_logged": tracebacks,
    }


def _seconds(value: float | None) -> str:
    return "not closed" if value is None else f"{value:.1f} s"


def print_table(console: Console, figures: dict[str, Any]) -> None:
    if "error" in figures:
        console.print(f"[red]Receiver figures failed:[/] {figures['error']}")
        return
    table = Table(
        title=f"Webhook receiver, concurrency {figures['concurrency']}, {figures['load_seconds']:.0f} s per Stripe",
        header_style="bold",
    )
    for column in (
        "Stripe",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "not 200",
        "stored",
        "processed",
        "budget",
        "",
    ):
        table.add_column(column, justify="left" if column == "Stripe" else "right")
    for name, s in figures["scenarios"].items():
        ok = s["failed"] == 0 and s["stored"] == s["ok"] and s["p99_ms"] < BUDGET_P99_MS
        table.add_row(
            name,
            f"{s['requests']}",
            f"{s['requests_per_s']:.0f}",
            f"{s['p50_ms']:.1f}",
            f"{s['p99_ms']:.1f}",
            f"{s['max_ms']:.1f}",
            f"{s['failed']}",
            f"{s['stored']}",
            f"{s['processed']}",
            f"p99 < {BUDGET_P99_MS:.0f}",
            verdict(ok),
        )
    console.print(table)

    slow = figures["slow_clients"]
    during = slow["load_meanwhile"]
    stop = figures["stop_after_sigterm_max_s"]
    rows = [
        (
            f"RSS added by {slow['slow_clients']} slow clients",
            f"{slow['rss_added_mb']:.1f} MB",
            f"< {BUDGET_RSS_MB:.0f} MB",
            slow["rss_added_mb"] < BUDGET_RSS_MB,
        ),
        (
            "deliveries meanwhile: p99 (not 200)",
            f"{during['p99_ms']:.1f} ms ({during['failed']})",
            f"< {BUDGET_P99_MS:.0f} ms",
            during["p99_ms"] < BUDGET_P99_MS and during["failed"] == 0,
        ),
        (
            "slow clients closed after (max)",
            f"{_seconds(slow['slow_clients_closed_after_max_s'])} ({slow['slow_clients_closed']} closed)",
            f"<= {BUDGET_CLOSE_S:.0f} s",
            slow["slow_clients_closed"] == slow["slow_clients"]
            and (slow["slow_clients_closed_after_max_s"] or 99) <= BUDGET_CLOSE_S,
        ),
        (
            "idle keep-alive connection closed after",
            _seconds(slow["idle_keep_alive_closed_after_s"]),
            f"<= {BUDGET_CLOSE_S:.0f} s",
            slow["idle_keep_alive_closed_after_s"] is not None
            and slow["idle_keep_alive_closed_after_s"] <= BUDGET_CLOSE_S,
        ),
        (
            "stop on SIGTERM (slowest run)",
            "killed" if stop is None else f"{stop:.1f} s",
            f"< {BUDGET_STOP_S:.0f} s",
            stop is not None and stop < BUDGET_STOP_S,
        ),
        ("tracebacks in the receiver's log", f"{figures['tracebacks_logged']}", "0", figures["tracebacks_logged"] == 0),
    ]
    table = Table(title="Webhook receiver: slow clients, idle connections, stopping", header_style="bold")
    for column in ("figure", "value", "budget", ""):
        table.add_column(column)
    for label, value, budget, ok in rows:
        table.add_row(label, value, budget, verdict(ok))
    console.print(table)


def main() -> None:
    run_alone("receiver", measure, print_table)


if __name__ == "__main__":
    main()
