"""`backoffice stripe webhook` and `backoffice stripe poll`: the two ways events come in."""

from __future__ import annotations

import logging

import typer
from sqlalchemy import Engine

from console.cli import logs
from console.cli.context import app_context, require_admin
from console.cli.groups import stripe_app
from console.cli.options import JsonOption, identifier, whole_number
from console.cli.output import emit_json, stdout
from core.audit import cli_actor
from core.clock import utcnow
from core.errors import OperatorError, StripeNotConfigured
from core.jsonable import to_jsonable
from core.settings import Settings
from db.engine import make_engine
from stripe_sync import poll as poll_module
from stripe_sync import webhook as webhook_module
from stripe_sync.client import client_from_settings

log = logging.getLogger("stripe_sync.webhook")


def register(app: typer.Typer) -> None:
    """The commands live on the shared `stripe` group; nothing else to add."""


@stripe_app.command("webhook")
def webhook(
    ctx: typer.Context,
    # An empty host would listen on every interface: it must be named.
    host: str = typer.Option(
        "127.0.0.1", "--host", parser=identifier, help="Address to listen on (loopback by default)."
    ),
    port: int = typer.Option(
        8787, "--port", parser=whole_number("port", 0, 65535), help="Port to listen on (0: any free port)."
    ),
) -> None:
    """Receive Stripe webhooks on POST /stripe/webhook: verify the signature, store each event once as pending."""
    app = app_context(ctx)
    engine = app.engine()
    require_admin(engine, "stripe webhook")
    secret = app.settings.stripe_webhook_secret
    if not secret:
        raise StripeNotConfigured("Stripe is not configured: set STRIPE_WEBHOOK_SECRET to receive webhooks")
    _log_to_stderr()
    limits = webhook_module.Limits()
    runs = _processing_runs(app.settings, engine)
    # Storing has a pool of its own, one connection per storing thread: a
    # processing run waiting on Stripe never holds a connection a delivery needs.
    receiver = webhook_module.WebhookReceiver(
        _pooled_engine(engine, limits.store_threads), secret, on_stored=runs.submit if runs else None
    )
    server = webhook_module.WebhookServer(receiver, host, port, limits=limits)
    try:
        webhook_module.serve_until_signalled(
            server, runs, on_listening=lambda url: typer.echo(f"listening on {url}", err=True)
        )
    except webhook_module.CannotListen as error:
        raise OperatorError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    typer.echo("stopped", err=True)


PROCESSING_WORKERS = 4


def _processing_runs(settings: Settings, engine: Engine) -> webhook_module.CustomerRuns | None:
    """With a Stripe key, a delivery's customer is processed after the answer,
    on a few worker threads with their own pool; without one the events are
    only stored, for a later sync."""
    if not settings.stripe_api_key:
        typer.echo("STRIPE_API_KEY is not set: events are stored, and processed by a later sync", err=True)
        return None
    from stripe_sync.processing import process_pending

    client = client_from_settings(settings)
    processing_engine = _pooled_engine(engine, PROCESSING_WORKERS, overflow=PROCESSING_WORKERS)

    def process(customer_id: str) -> None:
        if process_pending(processing_engine, client, customer_id) is None:
            log.info("%s: no subscription carries this customer yet; its events stay pending", customer_id)

    return webhook_module.CustomerRuns(process, workers=PROCESSING_WORKERS)


def _pooled_engine(engine: Engine, size: int, *, overflow: int = 0) -> Engine:
    """Another engine on `engine`'s database with a pool of its own, made like
    every other engine (connection settings, role) by db.engine.make_engine."""
    url = engine.url.render_as_string(hide_password=False)
    return make_engine(url, pool_size=size, max_overflow=overflow)


@stripe_app.command("poll")
def poll(ctx: typer.Context, json_output: bool = JsonOption) -> None:
    """Pull new events from Stripe's events list into the same store as webhooks, then process their customers."""
    app = app_context(ctx)
    engine = app.engine()
    require_admin(engine, "stripe poll")
    client = client_from_settings(app.settings)
    result, processing = poll_module.poll_and_process(engine, client, utcnow(), actor=cli_actor(app.settings))
    if json_output:
        emit_json({**to_jsonable(result), "processing": processing})
    else:
        stdout.print(
            f"{result.listed} listed: {result.stored} stored, {result.ignored} ignored (no customer), "
            f"{result.malformed} malformed, {result.skipped} already stored"
            + (f" ({result.payload_mismatches} with a different payload)" if result.payload_mismatches else "")
        )
        if result.customers:
            stdout.print(
                f"{len(result.customers)} customers with new events: {processing.processed} processed, "
                f"{processing.waiting} without a subscription yet, {len(processing.failed)} failed"
            )
        for failure in processing.failed:
            stdout.print(f"  {failure.customer_id}: {failure.error}")
    if not result.complete:
        raise OperatorError(
            "Stripe's events list failed part-way: what was read is stored, the cursor did not move; run poll again"
        )
    if processing.failed:
        raise OperatorError(
            f"processing failed for {len(processing.failed)} customers; their events stay pending for the next sync"
        )


def _log_to_stderr() -> None:
    """The receiver's line per delivery is INFO. The handler (one escaped line
    per record) is the CLI's own, installed once per process."""
    logs.install()
    logging.getLogger("stripe_sync.webhook").setLevel(logging.INFO)
